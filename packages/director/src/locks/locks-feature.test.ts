import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LockItem } from '@refit/protocol';
import { lockItem } from './locks-feature.ts';

describe('lockItem', () => {
  it('splits BOSH lock names and prints timeout as a string float', () => {
    const deployment = lockItem({ name: 'lock:deployment:cf', task_id: 12, expires_ms: 1_443_889_622_996 });
    assert.deepEqual(deployment, {
      type: 'deployment',
      resource: ['cf'],
      timeout: '1443889622.996000',
      task_id: '12',
    });
    LockItem.parse(deployment);
    assert.deepEqual(lockItem({ name: 'lock:stemcells:ubuntu:1.5', task_id: 1, expires_ms: 0 }).resource, [
      'ubuntu',
      '1.5',
    ]);
  });
});
