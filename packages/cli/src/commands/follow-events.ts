import type { CommandDeps } from '../command.ts';
import type { DirectorClient } from '../director-client/director-client.ts';
import { followTask } from '../director-client/follow-task.ts';
import type { Task, TaskOutputType } from '../director-client/tasks.ts';

/** Follows a task the command started, rendering its log as the stock CLI does. */
export function followTaskOutput(
  deps: CommandDeps,
  client: DirectorClient,
  taskId: number,
  signal: AbortSignal,
  type: TaskOutputType = 'event',
): Promise<Task> {
  return followTask(client, taskId, {
    type,
    sink: deps.ui.taskSink(type === 'event' ? 'events' : 'plain'),
    signal,
    pollIntervalMs: deps.taskPollIntervalMs,
  });
}
