/**
 * Runs `tick` every `intervalMs` on an unref'd timer (it never keeps the director alive); an
 * interval of 0 or less schedules nothing. A failing tick (a closed database at shutdown) is
 * left to the next one. Returns the stop function.
 */
export function scheduleEvery(intervalMs: number, tick: () => Promise<unknown>): () => void {
  if (intervalMs <= 0) return () => undefined;
  const timer = setInterval(() => {
    void tick().catch(() => undefined);
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
