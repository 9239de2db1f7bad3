import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runPool } from './run-pool.ts';

describe('runPool', () => {
  it('keeps at most `limit` in flight and lets in-flight work finish after the first failure', async () => {
    let inFlight = 0;
    let most = 0;
    const started: number[] = [];
    const finished: number[] = [];
    await assert.rejects(
      runPool([1, 2, 3, 4, 5, 6], 2, async (n) => {
        started.push(n);
        most = Math.max(most, ++inFlight);
        await new Promise((r) => setTimeout(r, n === 1 ? 5 : 20));
        inFlight--;
        if (n === 1) throw new Error('one failed');
        finished.push(n);
      }),
      /one failed/,
    );
    assert.equal(most, 2);
    assert.deepEqual(started, [1, 2], 'nothing new starts after the failure');
    assert.deepEqual(finished, [2], 'the one in flight finished');
  });
});
