import type { Route } from '../api/route.ts';
import { ValidationInvalidType } from '../errors.ts';
import type { DbEventRecorder, EventQuery } from './db-event-recorder.ts';

const MAX_EVENTS = 200;

/** A time filter: unix seconds (what the CLI sends) or any date `Date.parse` reads. */
export function parseTime(name: string, value: string): number {
  if (/^\d+(\.\d+)?$/.test(value)) return Math.round(Number(value) * 1000);
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new ValidationInvalidType(`Invalid ${name}: '${value}'`);
  return ms;
}

/** `GET /events` (reference §1.12): newest first, at most 200. */
export function eventRoutes(recorder: DbEventRecorder): Route[] {
  return [
    {
      method: 'GET',
      path: '/events',
      async handle({ query }) {
        const get = (key: string) => {
          const value = query.get(key);
          return value === null || value === '' ? undefined : value;
        };
        const beforeId = get('before_id');
        if (beforeId !== undefined && !/^\d+$/.test(beforeId)) {
          throw new ValidationInvalidType(`Invalid before_id: '${beforeId}'`);
        }
        const after = get('after_time');
        const before = get('before_time');
        const limitText = get('limit');
        const limit = limitText === undefined ? MAX_EVENTS : Number.parseInt(limitText, 10);
        const filter: { -readonly [K in keyof EventQuery]: EventQuery[K] } = {
          limit: Math.min(MAX_EVENTS, Math.max(1, Number.isNaN(limit) ? MAX_EVENTS : limit)),
        };
        if (beforeId !== undefined) filter.beforeId = Number(beforeId);
        if (after !== undefined) filter.afterMs = parseTime('after_time', after);
        if (before !== undefined) filter.beforeMs = parseTime('before_time', before);
        const strings = [
          ['deployment', 'deployment'],
          ['task', 'task'],
          ['instance', 'instance'],
          ['user', 'user'],
          ['action', 'action'],
          ['object_type', 'objectType'],
          ['object_name', 'objectName'],
        ] as const;
        for (const [param, key] of strings) {
          const value = get(param);
          if (value !== undefined) filter[key] = value;
        }
        return { kind: 'json', body: await recorder.list(filter) };
      },
    },
  ];
}
