import type { TaskState } from '@refit/protocol';

/** Free-text task output (`debug`, `cpi`, `result`): appended line by line, never held whole. */
export interface TaskLog {
  write(text: string): void;
}

/** One stage of BOSH's event log; `task` emits started → finished | failed lines with indexes. */
export interface EventStage {
  task<T>(name: string, fn: (progress: StageProgress) => Promise<T>): Promise<T>;
}
export interface StageProgress {
  /** An `in_progress` line with `data.status` (e.g. "executing drain", "512 MB of 1024 MB"). */
  status(status: string, percent?: number): void;
}

/** The event log of a task. Every line it writes is one valid JSON object (reference §1.3). */
export interface EventLog {
  stage(name: string, options?: { tags?: readonly string[]; total?: number | null }): EventStage;
  warning(message: string): void;
}

/** What a running task gets. The signal aborts on `DELETE /task/<id>` and on shutdown. */
export interface TaskContext {
  readonly taskId: number;
  readonly user: string;
  readonly deployment: string | null;
  readonly signal: AbortSignal;
  readonly events: EventLog;
  readonly debug: TaskLog;
  readonly cpi: TaskLog;
  readonly result: TaskLog;
}

/**
 * A task type: `run` returns the short result string stored on the task (`/stemcells/n/v`).
 * Throwing a DirectorError ends the task in `error` with the error's code in the event log.
 * `params` is the JSON value given to `enqueue`, persisted with the task.
 */
/** Method syntax on purpose: a TaskHandler<P> is usable wherever a TaskHandler<unknown> is listed. */
export interface TaskHandler<P = unknown> {
  readonly type: string;
  parseParams(raw: unknown): P;
  run(ctx: TaskContext, params: P): Promise<string>;
  /** Called for a task that was running when the director died, before it is marked `error`. */
  recover?(params: P): Promise<void>;
}

export interface EnqueueRequest {
  readonly type: string;
  readonly description: string;
  readonly user: string;
  readonly deployment?: string | null;
  readonly contextId?: string;
  readonly params: unknown;
  /** Lock names the task needs (`lock:deployment:<d>`); held while it runs. */
  readonly locks?: readonly string[];
}

/** The queue as routes see it: they only enqueue and answer with the id. */
export interface TaskQueue {
  enqueue(request: EnqueueRequest): Promise<number>;
}

export type { TaskState };
