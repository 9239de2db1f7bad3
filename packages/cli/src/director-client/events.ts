import { z } from 'zod';
import { EventAsRead } from '@refit/protocol';
import { query, type DirectorClient } from './director-client.ts';

export interface DirectorEvent {
  readonly id: string;
  readonly parentId: string;
  /** Unix seconds. */
  readonly timestamp: number;
  readonly user: string;
  readonly action: string;
  readonly objectType: string;
  readonly objectName: string;
  readonly taskId: string;
  readonly deployment: string;
  readonly instance: string;
  readonly context: Readonly<Record<string, unknown>>;
  readonly error: string;
}

export interface EventsFilter {
  readonly beforeId?: string;
  readonly before?: string;
  readonly after?: string;
  readonly deployment?: string;
  readonly task?: string;
  readonly instance?: string;
  readonly user?: string;
  readonly action?: string;
  readonly objectType?: string;
  readonly objectName?: string;
}

/** `GET /events?before_id=…&deployment=…` (the stock CLI's query names). */
export async function listEvents(
  client: DirectorClient,
  filter: EventsFilter,
  signal: AbortSignal,
): Promise<DirectorEvent[]> {
  const path = `/events${query({
    before_id: filter.beforeId,
    before_time: filter.before,
    after_time: filter.after,
    deployment: filter.deployment,
    task: filter.task,
    instance: filter.instance,
    user: filter.user,
    action: filter.action,
    object_type: filter.objectType,
    object_name: filter.objectName,
  })}`;
  const items = await client.json(path, z.array(EventAsRead), signal);
  return items.map((e) => ({
    id: e.id,
    parentId: e.parent_id ?? '',
    timestamp: e.timestamp,
    user: e.user ?? '',
    action: e.action ?? '',
    objectType: e.object_type ?? '',
    objectName: e.object_name ?? '',
    taskId: e.task ?? '',
    deployment: e.deployment ?? '',
    instance: e.instance ?? '',
    context: e.context ?? {},
    error: e.error ?? '',
  }));
}
