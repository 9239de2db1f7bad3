import { BugError } from '../errors.ts';

export interface DependencyOrderOptions<T> {
  /** At most this many `run`s at once (the cloud config's `compilation.workers`). */
  readonly workers: number;
  readonly key: (item: T) => string;
  /** Keys of the items this one waits for; keys not among `items` count as already done. */
  readonly dependencies: (item: T) => readonly string[];
  readonly run: (item: T) => Promise<void>;
  readonly signal?: AbortSignal;
}

/**
 * Runs every item once its dependencies have run, at most `workers` at once, items ready at the
 * same time in the order given (BOSH's package compilation: a package compiles only after
 * the packages it depends on). After the first failure nothing new starts, the runs in flight
 * finish, then that first error is thrown. A dependency cycle among the items is a BugError
 * (releases are checked for cycles at upload).
 */
export async function runInDependencyOrder<T>(
  items: readonly T[],
  options: DependencyOrderOptions<T>,
): Promise<void> {
  const keys = new Set(items.map(options.key));
  const waiting = new Map(
    items.map((item) => [
      options.key(item),
      { item, pending: new Set(options.dependencies(item).filter((d) => keys.has(d))) },
    ]),
  );
  const limit = Math.max(1, options.workers);
  const running = new Set<Promise<void>>();
  let failure: { error: unknown } | null = null;

  const start = (key: string, item: T) => {
    waiting.delete(key);
    const run = (async () => {
      try {
        options.signal?.throwIfAborted();
        await options.run(item);
        for (const other of waiting.values()) other.pending.delete(key);
      } catch (error) {
        failure ??= { error };
      }
    })();
    running.add(run);
    void run.finally(() => running.delete(run));
  };

  while (failure === null && (waiting.size > 0 || running.size > 0)) {
    for (const [key, entry] of waiting) {
      if (running.size >= limit) break;
      if (entry.pending.size === 0) start(key, entry.item);
    }
    if (running.size === 0) {
      if (waiting.size === 0) break;
      throw new BugError(`dependency cycle among ${[...waiting.keys()].join(', ')}`);
    }
    await Promise.race(running);
  }
  await Promise.all(running);
  if (failure !== null) throw (failure as { error: unknown }).error;
}
