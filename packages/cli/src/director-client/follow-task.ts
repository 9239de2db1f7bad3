import { setTimeout as sleep } from 'node:timers/promises';
import { query, type DirectorClient } from './director-client.ts';
import { TaskFailedError } from './errors.ts';
import { findTask, isTaskRunning, type Task, type TaskOutputType } from './tasks.ts';

/** Where a followed task's output goes (the UI's task reporter). */
export interface TaskOutputSink {
  taskStarted(id: number): void;
  taskOutputChunk(id: number, chunk: string): void;
  taskFinished(id: number, state: string): void;
}

export interface FollowOptions {
  readonly type: TaskOutputType;
  readonly sink: TaskOutputSink;
  readonly signal: AbortSignal;
  /** The stock CLI polls every 500 ms. */
  readonly pollIntervalMs?: number;
}

/**
 * Follows a task as the stock CLI does: every poll, `GET /tasks/<id>` then
 * `GET /tasks/<id>/output?type=<type>` with `Range: bytes=<offset>-` (416: nothing new), until the
 * state is no longer queued/processing/cancelling. Throws TaskFailedError unless it ends `done`.
 */
export async function followTask(client: DirectorClient, id: number, options: FollowOptions): Promise<Task> {
  const { sink, signal } = options;
  const decoder = new TextDecoder();
  let offset = 0;
  let state = 'unknown';
  sink.taskStarted(id);
  try {
    for (;;) {
      const task = await findTask(client, id, signal);
      state = task.state;
      const response = await client.send(
        'GET',
        `/tasks/${id}/output${query({ type: options.type })}`,
        signal,
        { headers: { range: `bytes=${offset}-` }, allowStatuses: [416] },
      );
      // A director that ignores Range answers 200 with everything: skip what was already shown.
      const fresh = response.status === 200 ? response.body.subarray(offset) : response.body;
      if (response.status !== 416 && response.status !== 204 && fresh.length > 0) {
        offset += fresh.length;
        const chunk = decoder.decode(fresh, { stream: true });
        if (chunk !== '') sink.taskOutputChunk(id, chunk);
      }
      if (!isTaskRunning(task.state)) {
        if (task.state !== 'done') throw new TaskFailedError(id, task.state);
        return task;
      }
      await sleep(options.pollIntervalMs ?? 500, undefined, { signal });
    }
  } finally {
    sink.taskFinished(id, state);
  }
}
