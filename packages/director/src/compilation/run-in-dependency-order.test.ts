import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BugError } from '../errors.ts';
import { runInDependencyOrder } from './run-in-dependency-order.ts';

interface Item {
  readonly name: string;
  readonly deps: readonly string[];
}

/** Runs each item for a few event-loop turns, recording what ran at once and in which order. */
function recorder(fail: string | null = null) {
  const started: string[] = [];
  const finished: string[] = [];
  let active = 0;
  let maxActive = 0;
  return {
    started,
    finished,
    max: () => maxActive,
    run: async (item: Item) => {
      started.push(item.name);
      active++;
      maxActive = Math.max(maxActive, active);
      for (let i = 0; i < 3; i++) await new Promise((ok) => setImmediate(ok));
      active--;
      if (item.name === fail) throw new Error(`${item.name} failed`);
      finished.push(item.name);
    },
  };
}

const graph: Item[] = [
  { name: 'd', deps: ['b', 'c'] },
  { name: 'b', deps: ['a'] },
  { name: 'c', deps: ['a', 'outside'] },
  { name: 'a', deps: [] },
  { name: 'e', deps: [] },
  { name: 'f', deps: [] },
];

const options = (r: ReturnType<typeof recorder>, workers: number) => ({
  workers,
  key: (i: Item) => i.name,
  dependencies: (i: Item) => i.deps,
  run: r.run,
});

describe('runInDependencyOrder', () => {
  for (const workers of [1, 2, 3]) {
    it(`runs at most ${workers} at once, each after its dependencies`, async () => {
      const r = recorder();
      await runInDependencyOrder(graph, options(r, workers));
      assert.equal(r.max(), workers);
      assert.deepEqual([...r.finished].sort(), ['a', 'b', 'c', 'd', 'e', 'f']);
      for (const item of graph) {
        for (const dep of item.deps.filter((d) => d !== 'outside')) {
          assert.ok(
            r.finished.indexOf(dep) < r.started.indexOf(item.name),
            `${item.name} started before ${dep} finished: ${r.started.join(',')}`,
          );
        }
      }
    });
  }

  it('starts nothing after a failure, lets the runs in flight finish, throws the first error', async () => {
    const r = recorder('a');
    await assert.rejects(runInDependencyOrder(graph, options(r, 2)), /a failed/);
    assert.deepEqual(r.started, ['a', 'e']);
    assert.deepEqual(r.finished, ['e']);
  });

  it('a dependency cycle is a bug', async () => {
    const r = recorder();
    const cycle: Item[] = [
      { name: 'x', deps: ['y'] },
      { name: 'y', deps: ['x'] },
    ];
    await assert.rejects(runInDependencyOrder(cycle, options(r, 2)), BugError);
    assert.deepEqual(r.started, []);
  });

  it('an aborted signal stops before the next item', async () => {
    const r = recorder();
    const controller = new AbortController();
    controller.abort(new Error('cancelled'));
    await assert.rejects(
      runInDependencyOrder(graph, { ...options(r, 2), signal: controller.signal }),
      /cancelled/,
    );
    assert.deepEqual(r.started, []);
  });
});
