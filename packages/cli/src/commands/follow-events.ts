import type { CommandDeps } from '../command.ts';
import type { DirectorClient } from '../director-client/director-client.ts';
import { followTask } from '../director-client/follow-task.ts';
import { taskResult, type Task, type TaskOutputType } from '../director-client/tasks.ts';

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

/**
 * For a task the command itself started: follows its event log, then fetches its `result` output
 * (as the stock CLI does after every task it starts) and returns it.
 */
export async function runStartedTask(
  deps: CommandDeps,
  client: DirectorClient,
  taskId: number,
  signal: AbortSignal,
): Promise<string> {
  await followTaskOutput(deps, client, taskId, signal);
  return taskResult(client, taskId, signal);
}
