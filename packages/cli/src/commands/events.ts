import { z } from 'zod';
import { stringify as stringifyYaml } from 'yaml';
import type { Command } from '../command.ts';
import { listEvents, type DirectorEvent, type EventsFilter } from '../director-client/events.ts';
import { result, tableItem, text, type TableData } from '../output.ts';
import { formatFullTime } from '../ui/time-format.ts';
import { noPositionals, optionalString } from './arg-schema.ts';

export function eventsTable(events: readonly DirectorEvent[]): TableData {
  return {
    content: 'events',
    header: [
      'ID',
      'Time',
      'User',
      'Action',
      'Object Type',
      'Object Name',
      'Task ID',
      'Deployment',
      'Instance',
      'Context',
      'Error',
    ],
    rows: events.map((e) => [
      text(e.parentId === '' ? e.id : `${e.id} <- ${e.parentId}`),
      text(e.timestamp === 0 ? '' : formatFullTime(e.timestamp)),
      text(e.user),
      text(e.action),
      text(e.objectType),
      text(e.objectName),
      text(e.taskId),
      text(e.deployment),
      text(e.instance),
      text(Object.keys(e.context).length === 0 ? '' : stringifyYaml(e.context).trim()),
      text(e.error),
    ]),
  };
}

const filterFlags = {
  'before-id': 'Show events with ID less than the given ID',
  before: 'Show events before the given timestamp (ex: 2016-05-08 17:26:32)',
  after: 'Show events after the given timestamp (ex: 2016-05-08 17:26:32)',
  task: 'Show events with the given task ID',
  instance: 'Show events with given instance',
  'event-user': 'Show events with given user',
  user: 'Show events with given user (same as --event-user)',
  action: 'Show events with given action',
  'object-type': 'Show events with given object type',
  'object-name': 'Show events with given object name',
} as const;

/** `refit events [filters] [-d DEP]`: the director's audit events. */
export const events: Command<Omit<EventsFilter, 'deployment'>> = {
  name: 'events',
  summary: 'List events',
  flags: Object.entries(filterFlags).map(([name, description]) => ({
    name,
    kind: 'string' as const,
    description,
  })),
  args: z
    .object({
      positionals: noPositionals,
      flags: z.object(Object.fromEntries(Object.keys(filterFlags).map((name) => [name, optionalString]))),
    })
    .transform(({ flags }) => {
      const picked: Record<string, string> = {};
      const take = (key: keyof EventsFilter, value: string | undefined): void => {
        if (value !== undefined) picked[key] = value;
      };
      take('beforeId', flags['before-id']);
      take('before', flags['before']);
      take('after', flags['after']);
      take('task', flags['task']);
      take('instance', flags['instance']);
      take('user', flags['event-user'] ?? flags['user']);
      take('action', flags['action']);
      take('objectType', flags['object-type']);
      take('objectName', flags['object-name']);
      return picked;
    }),
  async run(deps, filter, signal) {
    const deployment = deps.globals.deployment;
    const found = await listEvents(
      await deps.session.director(),
      { ...filter, ...(deployment === undefined ? {} : { deployment }) },
      signal,
    );
    return result(tableItem(eventsTable(found)));
  },
};
