import { z } from 'zod';
import { readJson } from '../api/body.ts';
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

/**
 * `POST /events` body, as BOSH's events controller reads it (the health monitor's event_logger
 * plugin sends `action: create, object_type: alert`): action, object_type and object_name are
 * required; timestamp is unix seconds (or a date), now when absent.
 */
const CreateEventBody = z.object({
  action: z.string().min(1),
  object_type: z.string().min(1),
  object_name: z.string().min(1),
  timestamp: z.union([z.string(), z.number()]).nullish(),
  deployment: z.string().nullish(),
  instance: z.string().nullish(),
  error: z.string().nullish(),
  context: z.record(z.string(), z.unknown()).nullish(),
});

const EVENT_BODY_LIMIT = 64 * 1024;

/**
 * `GET /events` (reference §1.12): newest first, at most 200. `POST /events`: records one
 * event as the authenticated user (BOSH's route, used by the health monitor for its alerts).
 */
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
    {
      method: 'POST',
      path: '/events',
      async handle(request) {
        const body = await readJson(request, CreateEventBody, EVENT_BODY_LIMIT);
        const timestamp = body.timestamp ?? null;
        await recorder.record({
          action: body.action,
          objectType: body.object_type,
          objectName: body.object_name,
          user: request.user,
          deployment: body.deployment ?? null,
          instance: body.instance ?? null,
          error: body.error ?? null,
          context: body.context ?? {},
          ...(timestamp === null ? {} : { timestampMs: parseTime('timestamp', String(timestamp)) }),
        });
        // As BOSH: 200, no body.
        return { kind: 'empty', status: 200 };
      },
    },
  ];
}
