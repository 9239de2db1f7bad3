import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { ActionContext, AnyAction } from './actions/action.ts';
import { AgentError, AgentErrorCode, errorMessage } from './errors.ts';

/** What a request answers: a value, or an exception message (BOSH's two envelopes). */
export type Outcome = { readonly value: unknown } | { readonly exception: string };

interface Task {
  readonly id: string;
  readonly method: string;
  readonly abort: AbortController;
  state: 'running' | 'done' | 'failed';
  outcome: Outcome | null;
  /** What a running task last reported (get_task shows it as `progress`). */
  progress: unknown;
}

/** The async tasks the agent runs, for get_task and cancel_task. Finished ones are kept (bounded). */
export class TaskBoard {
  readonly #tasks = new Map<string, Task>();
  readonly #keepFinished: number;

  constructor(keepFinished = 200) {
    this.#keepFinished = keepFinished;
  }

  start(method: string, work: (signal: AbortSignal) => Promise<unknown>): string {
    const task: Task = {
      id: randomUUID(),
      method,
      abort: new AbortController(),
      state: 'running',
      outcome: null,
      progress: undefined,
    };
    this.#tasks.set(task.id, task);
    void work(task.abort.signal).then(
      (value) => {
        task.state = 'done';
        task.outcome = { value };
        this.#trim();
      },
      (error: unknown) => {
        task.state = 'failed';
        task.outcome = { exception: errorMessage(error) };
        this.#trim();
      },
    );
    return task.id;
  }

  /** The running object, the final value, or a failure (thrown as BOSH words it). */
  get(id: string): unknown {
    const task = this.#find(id);
    if (task.outcome === null) {
      return {
        agent_task_id: task.id,
        state: 'running',
        ...(task.progress === undefined ? {} : { progress: task.progress }),
      };
    }
    if ('exception' in task.outcome) {
      throw new AgentError(AgentErrorCode.ScriptFailed, `Task ${task.id} result: ${task.outcome.exception}`);
    }
    return task.outcome.value;
  }

  /** A running task reports its progress, identified by the signal it was given. */
  report(signal: AbortSignal, progress: unknown): void {
    for (const task of this.#tasks.values()) {
      if (task.abort.signal === signal && task.state === 'running') task.progress = progress;
    }
  }

  cancel(id: string): void {
    const task = this.#find(id);
    task.abort.abort(new AgentError(AgentErrorCode.Cancelled, `task ${id} (${task.method}) was cancelled`));
  }

  /** How many tasks of `method` are running. */
  runningOf(method: string): number {
    return [...this.#tasks.values()].filter((t) => t.state === 'running' && t.method === method).length;
  }

  get running(): number {
    return [...this.#tasks.values()].filter((t) => t.state === 'running').length;
  }

  #find(id: string): Task {
    const task = this.#tasks.get(id);
    if (!task) throw new AgentError(AgentErrorCode.TaskNotFound, `Task with id ${id} could not be found`);
    return task;
  }

  #trim(): void {
    const finished = [...this.#tasks.values()].filter((t) => t.state !== 'running');
    for (const task of finished.slice(0, Math.max(0, finished.length - this.#keepFinished)))
      this.#tasks.delete(task.id);
  }
}

/**
 * Routes a method to its action: unknown methods get BOSH's `unknown message <method>`;
 * arguments are parsed with the action's schema; sync actions answer with their value, async
 * ones with `{agent_task_id, state: "running"}` and are polled with get_task.
 */
export class Dispatcher {
  readonly #actions: ReadonlyMap<string, AnyAction>;
  readonly #ctx: ActionContext;

  constructor(actions: ReadonlyMap<string, AnyAction>, ctx: ActionContext) {
    this.#actions = actions;
    this.#ctx = ctx;
  }

  async dispatch(method: string, rawArgs: readonly unknown[]): Promise<Outcome> {
    const action = this.#actions.get(method);
    if (!action) return { exception: `unknown message ${method}` };
    const parsed = (action.args as z.ZodType).safeParse(rawArgs);
    if (!parsed.success) {
      return { exception: `Action Failed ${method}: invalid arguments: ${z.prettifyError(parsed.error)}` };
    }
    if (action.mode === 'async') {
      const id = this.#ctx.tasks.start(method, (signal) => action.run(this.#ctx, parsed.data, signal));
      this.#ctx.log.info(`async ${method} started as task ${id}`);
      return { value: { agent_task_id: id, state: 'running' } };
    }
    try {
      return { value: await action.run(this.#ctx, parsed.data, AbortSignal.timeout(10 * 60_000)) };
    } catch (error) {
      this.#ctx.log.warn(`${method} failed: ${errorMessage(error)}`);
      return { exception: `Action Failed ${method}: ${errorMessage(error)}` };
    }
  }
}
