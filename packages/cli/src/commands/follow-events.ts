import type { CommandDeps } from '../command.ts';
import type { DirectorClient } from '../director-client/director-client.ts';
import { followTask } from '../director-client/follow-task.ts';
import type { Task, TaskOutputType } from '../director-client/tasks.ts';

/**
 * Follows a task, rendering its log as the stock CLI does: the event log as `Task N | … ` lines,
 * other logs (and the event log under `task --event`) as raw chunks.
 */
export function followTaskOutput(
  deps: CommandDeps,
  client: DirectorClient,
  taskId: number,
  signal: AbortSignal,
  type: TaskOutputType = 'event',
  render: 'events' | 'plain' = type === 'event' ? 'events' : 'plain',
): Promise<Task> {
  return followTask(client, taskId, {
    type,
    sink: deps.ui.taskSink(render),
    signal,
    pollIntervalMs: deps.taskPollIntervalMs,
  });
}
