import type { TaskState } from '@refit/protocol';
import type { DirectorLog } from '../config/director-log.ts';
import {
  BugError,
  ContextIdViolatedMax,
  DirectorError,
  TaskCancelled,
  TaskInvalidState,
  TaskNotFound,
} from '../errors.ts';
import { JsonEventLog } from './json-event-log.ts';
import type { RequestContextStore } from './request-context.ts';
import type { EnqueueRequest, TaskContext, TaskHandler, TaskQueue } from './task-context.ts';
import { AppendFile, taskOutputPath } from './task-files.ts';
import { truncateResult, type TaskFilter, type TaskRow, type TaskStore } from './task-store.ts';

export const INTERRUPTED_MESSAGE = 'Task was running when the director stopped (director restarted)';
export const SHUTDOWN_MESSAGE = 'Task was aborted because the director stopped';
/** BOSH's code for an error that is not a numbered director error. */
const GENERIC_ERROR_CODE = 100;

class TaskAbort {
  readonly kind: 'cancel' | 'shutdown';
  constructor(kind: 'cancel' | 'shutdown') {
    this.kind = kind;
  }
}

export interface TaskRunnerOptions {
  readonly store: TaskStore;
  readonly stateDir: string;
  /** Tasks run at once by this director. */
  readonly workers: number;
  /** Stable across restarts of this director (its tasks are recovered at start). */
  readonly runnerId: string;
  readonly log: DirectorLog;
  readonly requests?: RequestContextStore;
  /** How often to look for queued work and cancellations made elsewhere. */
  readonly pollMs?: number;
  /** How often running tasks record that they are alive and renew their locks. */
  readonly checkpointMs?: number;
  readonly now?: () => number;
}

interface Running {
  readonly controller: AbortController;
  readonly done: Promise<void>;
}

/**
 * The persisted task queue and its workers (reference §1.3). Tasks are rows; the runner claims
 * queued rows whose locks are free, runs their handler with a TaskContext, writes the outputs
 * under `<stateDir>/tasks/<id>/`, and records the end state, releasing the locks.
 */
export class TaskRunner implements TaskQueue {
  readonly #options: TaskRunnerOptions;
  readonly #store: TaskStore;
  readonly #handlers = new Map<string, TaskHandler<unknown>>();
  readonly #running = new Map<number, Running>();
  readonly #now: () => number;
  #timer: NodeJS.Timeout | null = null;
  #lastCheckpoint = 0;
  #pumping: Promise<void> | null = null;
  #pumpAgain = false;
  #stopping = false;

  constructor(options: TaskRunnerOptions) {
    this.#options = options;
    this.#store = options.store;
    this.#now = options.now ?? Date.now;
  }

  get #checkpointMs() {
    return this.#options.checkpointMs ?? 5000;
  }
  /** Locks outlive a missed checkpoint or two, not a dead director. */
  get #lockTtlMs() {
    return this.#checkpointMs * 6;
  }

  register(handlers: readonly TaskHandler<unknown>[]): void {
    for (const handler of handlers) {
      if (this.#handlers.has(handler.type)) throw new BugError(`task type ${handler.type} registered twice`);
      this.#handlers.set(handler.type, handler);
    }
  }

  async enqueue(request: EnqueueRequest): Promise<number> {
    const contextId = request.contextId ?? this.#options.requests?.current()?.contextId ?? '';
    if (contextId.length > 64) {
      throw new ContextIdViolatedMax('X-Bosh-Context-Id cannot be more than 64 characters in length');
    }
    if (!this.#handlers.has(request.type)) throw new BugError(`no handler for task type ${request.type}`);
    const id = await this.#store.insert(
      {
        type: request.type,
        description: request.description,
        user: request.user,
        deployment: request.deployment ?? null,
        contextId,
        params: request.params,
        locks: request.locks ?? [],
      },
      this.#now(),
    );
    this.#kick();
    return id;
  }

  get(id: number): Promise<TaskRow | null> {
    return this.#store.get(id);
  }

  list(filter: TaskFilter): Promise<TaskRow[]> {
    return this.#store.list(filter);
  }

  /**
   * At start, before serving: every task left processing/cancelling by this director's previous
   * life is handed to its handler's `recover`, then marked `error`; its locks go with it.
   */
  async recoverInterrupted(): Promise<number[]> {
    const orphans = await this.#store.orphans(this.#options.runnerId, this.#now() - this.#lockTtlMs);
    for (const row of orphans) await this.#failOrphan(row, INTERRUPTED_MESSAGE);
    await this.#store.releaseDeadLocks();
    return orphans.map((row) => row.id);
  }

  start(): void {
    if (this.#timer !== null) return;
    this.#timer = setInterval(() => void this.#tick(), this.#options.pollMs ?? 1000);
    this.#kick();
  }

  /** `DELETE /task/<id>`: the state the task is in afterwards. */
  async cancel(id: number): Promise<TaskState> {
    const { found, now } = await this.#store.requestCancel(id, this.#now());
    if (found === null) throw new TaskNotFound(`Task ${id} not found`);
    if (found !== 'queued' && found !== 'processing') {
      throw new TaskInvalidState(`Cannot cancel task ${id}: invalid state (${found})`);
    }
    if (now === 'cancelling') this.#running.get(id)?.controller.abort(new TaskAbort('cancel'));
    return now ?? found;
  }

  /** Stops claiming, aborts the running tasks and waits (up to `graceMs`) for them to end. */
  async stop(graceMs = 10_000): Promise<void> {
    this.#stopping = true;
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
    for (const running of this.#running.values()) running.controller.abort(new TaskAbort('shutdown'));
    const all = Promise.allSettled([...this.#running.values()].map((running) => running.done));
    let timeout: NodeJS.Timeout | undefined;
    await Promise.race([all, new Promise((resolve) => (timeout = setTimeout(resolve, graceMs)))]);
    clearTimeout(timeout);
    await this.#pumping;
  }

  /** Resolves when no task of this runner is running and none is being claimed (tests). */
  async idle(): Promise<void> {
    while (this.#running.size > 0 || this.#pumping !== null) {
      await Promise.allSettled([this.#pumping, ...[...this.#running.values()].map((r) => r.done)]);
    }
  }

  #kick(): void {
    if (this.#stopping || this.#timer === null) return;
    if (this.#pumping !== null) {
      this.#pumpAgain = true;
      return;
    }
    this.#pumping = this.#pump()
      .catch((error: unknown) => this.#options.log.error('task claim failed', { error: describe(error) }))
      .finally(() => {
        this.#pumping = null;
        if (this.#pumpAgain) {
          this.#pumpAgain = false;
          this.#kick();
        }
      });
  }

  async #pump(): Promise<void> {
    while (!this.#stopping && this.#running.size < this.#options.workers) {
      const row = await this.#store.claim(this.#options.runnerId, this.#now(), this.#lockTtlMs);
      if (row === null) return;
      this.#launch(row);
    }
  }

  async #tick(): Promise<void> {
    try {
      if (this.#running.size > 0) {
        for (const id of await this.#store.cancellingIds(this.#options.runnerId)) {
          this.#running.get(id)?.controller.abort(new TaskAbort('cancel'));
        }
      }
      const now = this.#now();
      if (now - this.#lastCheckpoint >= this.#checkpointMs) {
        this.#lastCheckpoint = now;
        await this.#store.checkpoint([...this.#running.keys()], now, this.#lockTtlMs);
        for (const row of await this.#store.orphans(null, now - this.#lockTtlMs)) {
          if (!this.#running.has(row.id)) await this.#failOrphan(row, INTERRUPTED_MESSAGE);
        }
      }
    } catch (error) {
      this.#options.log.error('task runner tick failed', { error: describe(error) });
    }
    this.#kick();
  }

  #launch(row: TaskRow): void {
    const controller = new AbortController();
    const done = this.#execute(row, controller)
      .catch((error: unknown) => {
        this.#options.log.error('task bookkeeping failed', { task: row.id, error: describe(error) });
      })
      .finally(() => {
        this.#running.delete(row.id);
        this.#kick();
      });
    this.#running.set(row.id, { controller, done });
  }

  async #execute(row: TaskRow, controller: AbortController): Promise<void> {
    const files = this.#files(row.id);
    const debug = (message: string) =>
      files.debug.write(`${new Date(this.#now()).toISOString()} INFO ${message}`);
    let state: TaskState;
    let result: string;
    try {
      debug(`Starting task ${row.id}: ${row.description} (${row.type})`);
      this.#options.log.info('task started', { task: row.id, type: row.type });
      const handler = this.#handlers.get(row.type);
      if (handler === undefined) throw new BugError(`Unknown task type '${row.type}'`);
      const params = handler.parseParams(JSON.parse(row.params));
      const context: TaskContext = {
        taskId: row.id,
        user: row.user_name,
        deployment: row.deployment,
        signal: controller.signal,
        events: files.events,
        debug: files.debug,
        cpi: files.cpi,
        result: files.result,
      };
      if (row.state === 'cancelling') controller.abort(new TaskAbort('cancel'));
      result = await handler.run(context, params);
      state = 'done';
    } catch (error) {
      const reason: unknown = controller.signal.aborted ? controller.signal.reason : null;
      if (reason instanceof TaskAbort && reason.kind === 'cancel') {
        state = 'cancelled';
        result = 'task cancelled';
        files.events.error(TaskCancelled.code, `Task ${row.id} cancelled`);
      } else {
        state = 'error';
        result = reason instanceof TaskAbort ? SHUTDOWN_MESSAGE : describe(error);
        const code =
          error instanceof DirectorError && !(reason instanceof TaskAbort) ? error.code : GENERIC_ERROR_CODE;
        files.events.error(code, result);
      }
      files.debug.write(`${new Date(this.#now()).toISOString()} ERROR ${errorDetail(error)}`);
    }
    debug(`Task ${row.id} ended: ${state}`);
    files.close();
    await this.#store.finish(row.id, state, truncateResult(result), this.#now());
    this.#options.log.info('task ended', { task: row.id, type: row.type, state });
  }

  async #failOrphan(row: TaskRow, message: string): Promise<void> {
    const handler = this.#handlers.get(row.type);
    if (handler?.recover !== undefined) {
      try {
        await handler.recover(handler.parseParams(JSON.parse(row.params)));
      } catch (error) {
        this.#options.log.error('task recover failed', { task: row.id, error: describe(error) });
      }
    }
    const files = this.#files(row.id);
    files.events.error(GENERIC_ERROR_CODE, message);
    files.debug.write(`${new Date(this.#now()).toISOString()} ERROR ${message}`);
    files.close();
    await this.#store.finish(row.id, 'error', truncateResult(message), this.#now());
    this.#options.log.warn('task marked error: it was running when its director stopped', { task: row.id });
  }

  #files(id: number) {
    const dir = this.#options.stateDir;
    const event = new AppendFile(taskOutputPath(dir, id, 'event'));
    const debug = new AppendFile(taskOutputPath(dir, id, 'debug'));
    const cpi = new AppendFile(taskOutputPath(dir, id, 'cpi'));
    const result = new AppendFile(taskOutputPath(dir, id, 'result'));
    return {
      events: new JsonEventLog((line) => event.write(line)),
      debug,
      cpi,
      result,
      close() {
        for (const file of [event, debug, cpi, result]) file.close();
      },
    };
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function errorDetail(error: unknown): string {
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}
