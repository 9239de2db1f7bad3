import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deploymentHealth } from './meltdown.ts';

const bosh = { minimumDownJobs: 5, percentThreshold: 0.2 };

describe('deploymentHealth', () => {
  it('is normal with nothing unhealthy', () => {
    assert.equal(deploymentHealth('d', 0, 10, bosh).state, 'normal');
  });
  it('is managed below minimum_down_jobs even at 100%', () => {
    assert.equal(deploymentHealth('d', 4, 4, bosh).state, 'managed');
  });
  it('is managed below percent_threshold even with many down', () => {
    assert.equal(deploymentHealth('d', 5, 26, bosh).state, 'managed');
  });
  it('is a meltdown when both thresholds are reached (boundaries included)', () => {
    assert.equal(deploymentHealth('d', 5, 25, bosh).state, 'meltdown');
    assert.equal(
      deploymentHealth('d', 3, 5, { minimumDownJobs: 3, percentThreshold: 0.5 }).state,
      'meltdown',
    );
  });
  it('words the summary as BOSH does', () => {
    assert.equal(
      deploymentHealth('cf', 3, 5, bosh).summary,
      "deployment: 'cf'; 3 of 5 agents are unhealthy (60.0%)",
    );
  });
  it('treats an empty instance list with unhealthy instances as 100%', () => {
    assert.equal(deploymentHealth('d', 5, 0, bosh).state, 'meltdown');
  });
});
