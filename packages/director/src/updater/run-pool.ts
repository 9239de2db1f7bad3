/**
 * Runs `fn` over `items` with at most `limit` at once (BOSH's ThreadPool with failure
 * semantics, reference §4.5): after the first failure no new item starts, the ones in flight
 * finish, then that first error is thrown.
 */
export async function runPool<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | null = null;
  const worker = async () => {
    while (failure === null && next < items.length) {
      const item = items[next++] as T;
      try {
        await fn(item);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  if (failure !== null) throw (failure as { error: unknown }).error;
}

/** Runs every function at once; waits for all of them, then throws the first failure. */
export async function runAll(fns: readonly (() => Promise<void>)[]): Promise<void> {
  const settled = await Promise.allSettled(fns.map((fn) => fn()));
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) throw failed.reason;
}
