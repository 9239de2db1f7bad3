import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ProblemList } from './manifest-invalid.ts';
import { canariesFor, compileDeploymentUpdate, maxInFlightFor } from './update-config.ts';

const update = (canaries: number | string, maxInFlight: number | string) =>
  compileDeploymentUpdate(
    { canaries, max_in_flight: maxInFlight, canary_watch_time: 1000, update_watch_time: '1000-2000' },
    new ProblemList(),
  );

describe('update config', () => {
  it('percentages are floor(n × size / 100), capped at size', () => {
    assert.deepEqual(
      [0, 1, 3, 4, 10].map((n) => canariesFor(update('30%', 1), n)),
      [0, 0, 0, 1, 3],
    );
    assert.deepEqual(
      [1, 3, 10].map((n) => canariesFor(update('200%', 1), n)),
      [1, 3, 10],
    );
    assert.equal(canariesFor(update('2', 1), 10), 2);
  });

  it('max_in_flight is never below 1; canaries may be 0', () => {
    assert.deepEqual(
      [1, 3, 4, 9].map((n) => maxInFlightFor(update(0, '25%'), n)),
      [1, 1, 1, 2],
    );
    assert.equal(maxInFlightFor(update(0, 0), 5), 1);
    assert.equal(canariesFor(update(0, 1), 5), 0);
  });

  it('watch times in ms, one value or a range; min above max is a problem', () => {
    const problems = new ProblemList();
    const u = compileDeploymentUpdate(
      { canaries: 1, max_in_flight: 1, canary_watch_time: '500', update_watch_time: '9000-1000' },
      problems,
    );
    assert.deepEqual(u.canaryWatchTime, { minMs: 500, maxMs: 500 });
    assert.equal(problems.size, 1);
  });
});
