import { setTimeout as sleep } from 'node:timers/promises';

export interface BoundedSenderOptions<T> {
  /** Sends one item; must honour the signal (a per-item timeout combined with shutdown). */
  readonly send: (item: T, signal: AbortSignal) => Promise<void>;
  readonly capacity: number;
  readonly timeoutMs: number;
  readonly onError: (error: unknown, item: T) => void;
  /** Called when the queue is full and the oldest item is dropped. */
  readonly onDrop: (item: T) => void;
}

/**
 * A bounded queue with one worker: `push` never waits; when full, the oldest item is dropped;
 * each send is cut off after `timeoutMs`, so a hanging receiver delays only this queue.
 */
export class BoundedSender<T> {
  readonly #options: BoundedSenderOptions<T>;
  readonly #queue: T[] = [];
  readonly #stop = new AbortController();
  #wake: (() => void) | null = null;
  readonly #worker: Promise<void>;
  sent = 0;
  failed = 0;
  dropped = 0;

  constructor(options: BoundedSenderOptions<T>) {
    this.#options = options;
    this.#worker = this.#run();
  }

  get pending(): number {
    return this.#queue.length;
  }

  push(item: T): void {
    if (this.#stop.signal.aborted) return;
    if (this.#queue.length >= this.#options.capacity) {
      const dropped = this.#queue.shift();
      this.dropped += 1;
      if (dropped !== undefined) this.#options.onDrop(dropped);
    }
    this.#queue.push(item);
    this.#wake?.();
  }

  /** Stops the worker: the item in flight is aborted, queued ones are discarded. */
  async close(): Promise<void> {
    this.#stop.abort();
    this.#wake?.();
    await this.#worker;
  }

  async #run(): Promise<void> {
    const stop = this.#stop.signal;
    while (!stop.aborted) {
      const item = this.#queue.shift();
      if (item === undefined) {
        await new Promise<void>((resolve) => {
          this.#wake = resolve;
        });
        this.#wake = null;
        continue;
      }
      try {
        await this.#options.send(item, AbortSignal.any([stop, AbortSignal.timeout(this.#options.timeoutMs)]));
        this.sent += 1;
      } catch (error) {
        if (stop.aborted) break;
        this.failed += 1;
        this.#options.onError(error, item);
        // A receiver that fails fast must not turn this loop into a busy one.
        await sleep(50, undefined, { signal: stop }).catch(() => {});
      }
    }
  }
}
