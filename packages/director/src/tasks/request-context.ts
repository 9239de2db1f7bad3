import { AsyncLocalStorage } from 'node:async_hooks';

/** What the API server knows about the request being handled, for code that enqueues tasks. */
export interface RequestContext {
  /** The `X-Bosh-Context-Id` header (already checked to be at most 64 characters), or ''. */
  readonly contextId: string;
}

/**
 * Carries the request's context to `TaskQueue.enqueue`, so every route's tasks record the
 * context id without each route passing it. One instance, made in main.ts and given to both.
 */
export class RequestContextStore {
  readonly #storage = new AsyncLocalStorage<RequestContext>();
  run<T>(context: RequestContext, fn: () => T): T {
    return this.#storage.run(context, fn);
  }
  current(): RequestContext | undefined {
    return this.#storage.getStore();
  }
}
