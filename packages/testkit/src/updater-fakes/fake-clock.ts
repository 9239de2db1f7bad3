import type { Clock } from '@refit/director/updater/updater-ports.ts';

/** Time that moves only when slept: watch times and drains take no real time. */
export class FakeClock implements Clock {
  #now: number;
  readonly sleeps: number[] = [];
  constructor(start = Date.UTC(2026, 0, 1)) {
    this.#now = start;
  }
  now(): number {
    return this.#now;
  }
  async sleep(ms: number, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    this.sleeps.push(ms);
    this.#now += ms;
    // Yield so concurrent work interleaves as it would with real waits.
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}
