import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { initialPlan, harness } from './updater-harness.test-support.ts';
import { AgentJobNotRunning, startStep, watchSchedule } from './start-step.ts';
import { silentProgress } from './instance-label.ts';

describe('watchSchedule', () => {
  it('waits min, then steps of (max-min)/9 clamped to 1-15 s, up to max', () => {
    assert.deepEqual(watchSchedule({ minMs: 5000, maxMs: 5000 }), [5000]);
    assert.deepEqual(
      watchSchedule({ minMs: 1000, maxMs: 10_000 }),
      [1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000],
    );
    const long = watchSchedule({ minMs: 0, maxMs: 300_000 });
    assert.equal(long[1], 15_000);
    assert.equal(
      long.reduce((a, b) => a + b, 0),
      300_000,
    );
    const short = watchSchedule({ minMs: 1000, maxMs: 3500 });
    assert.deepEqual(short, [1000, 1000, 1000, 500]);
  });
});

describe('startStep', () => {
  it("fails with BOSH's message naming the processes not running after max_watch_time", async () => {
    const h = harness();
    h.agents.failingJobs('agent-x');
    const plan = initialPlan().instanceGroups[0]!.instances[0]!;
    await assert.rejects(
      startStep(h.deps, 'agent-x', plan, { minMs: 1000, maxMs: 3000 }, silentProgress),
      (error: unknown) =>
        error instanceof AgentJobNotRunning &&
        error.message ===
          `'web/${plan.id} (${plan.index})' is not running after update. Review logs for failed jobs: server`,
    );
    assert.deepEqual(h.clock.sleeps, [1000, 1000, 1000]);
    assert.equal(h.log.matching('agent:agent-x:get_state').length, 3);
    assert.equal(h.log.matching('agent:agent-x:run_script:post-start').length, 0);
  });
});
