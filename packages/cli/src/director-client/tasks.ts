import { z } from 'zod';
import { TaskAsRead } from '@refit/protocol';
import { query, type DirectorClient } from './director-client.ts';

export interface Task {
  readonly id: number;
  readonly state: string;
  readonly description: string;
  /** Unix seconds; undefined while queued / running. */
  readonly startedAt: number | undefined;
  readonly finishedAt: number | undefined;
  readonly result: string;
  readonly user: string;
  readonly deployment: string;
  readonly contextId: string;
}

export type TaskOutputType = 'event' | 'result' | 'debug' | 'cpi';

/** queued / processing / cancelling: the stock CLI keeps polling. */
export function isTaskRunning(state: string): boolean {
  return state === 'queued' || state === 'processing' || state === 'cancelling';
}

export interface TasksFilter {
  /** Every task type (`verbose=2`); otherwise only the ones the stock CLI lists (`verbose=1`). */
  readonly all: boolean;
  readonly deployment?: string;
}

function toTask(task: TaskAsRead): Task {
  return {
    id: task.id,
    state: task.state,
    description: task.description ?? '',
    startedAt: task.started_at ?? undefined,
    finishedAt: task.timestamp ?? undefined,
    result: task.result ?? '',
    user: task.user ?? '',
    deployment: task.deployment ?? '',
    contextId: task.context_id ?? '',
  };
}

/** `GET /tasks?state=processing,cancelling,queued&verbose=…` */
export async function currentTasks(
  client: DirectorClient,
  filter: TasksFilter,
  signal: AbortSignal,
): Promise<Task[]> {
  const path = `/tasks${query({ state: 'processing,cancelling,queued', verbose: filter.all ? 2 : 1, deployment: filter.deployment })}`;
  return (await client.json(path, z.array(TaskAsRead), signal)).map(toTask);
}

/** `GET /tasks?limit=N&verbose=…` (newest first). */
export async function recentTasks(
  client: DirectorClient,
  limit: number,
  filter: TasksFilter,
  signal: AbortSignal,
): Promise<Task[]> {
  const path = `/tasks${query({ limit, verbose: filter.all ? 2 : 1, deployment: filter.deployment })}`;
  return (await client.json(path, z.array(TaskAsRead), signal)).map(toTask);
}

export async function findTask(client: DirectorClient, id: number, signal: AbortSignal): Promise<Task> {
  return toTask(await client.json(`/tasks/${id}`, TaskAsRead, signal));
}

/** `DELETE /task/<id>` (singular, as BOSH has it). */
export async function cancelTask(client: DirectorClient, id: number, signal: AbortSignal): Promise<void> {
  await client.send('DELETE', `/task/${id}`, signal);
}

/** The whole `result` output of a finished task (no Range). */
export async function taskResult(client: DirectorClient, id: number, signal: AbortSignal): Promise<string> {
  const response = await client.send('GET', `/tasks/${id}/output${query({ type: 'result' })}`, signal);
  return response.body.toString('utf8');
}
