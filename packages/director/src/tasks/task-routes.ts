import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { CancelTasksBody, TaskOutputType } from '@refit/protocol';
import { readJson } from '../api/body.ts';
import type { Route, RouteReply } from '../api/route.ts';
import { TaskInvalidState, TaskNotFound, ValidationInvalidType } from '../errors.ts';
import { taskOutputPath } from './task-files.ts';
import type { TaskRunner } from './task-runner.ts';
import { taskJson, VERBOSE_1_TYPES, type TaskFilter, type TaskRow } from './task-store.ts';

/** The tasks API (reference §1.3). */
export function taskRoutes(runner: TaskRunner, stateDir: string): Route[] {
  const find = async (raw: string | undefined): Promise<TaskRow> => {
    const id = /^\d{1,15}$/.test(raw ?? '') ? Number(raw) : null;
    const row = id === null ? null : await runner.get(id);
    if (row === null) throw new TaskNotFound(`Task ${raw ?? ''} not found`);
    return row;
  };
  return [
    {
      method: 'GET',
      path: '/tasks',
      async handle({ query }) {
        const filter: { -readonly [K in keyof TaskFilter]: TaskFilter[K] } = {};
        const states = query.get('state');
        if (states !== null && states !== '') filter.states = states.split(',').map((s) => s.trim());
        if (query.get('verbose') !== '2') filter.types = VERBOSE_1_TYPES;
        const deployment = query.get('deployment');
        if (deployment !== null && deployment !== '') filter.deployment = deployment;
        const contextId = query.get('context_id');
        if (contextId !== null && contextId !== '') filter.contextId = contextId;
        const limit = query.get('limit');
        if (limit !== null && limit !== '') filter.limit = Math.max(1, Number.parseInt(limit, 10) || 1);
        return { kind: 'json', body: (await runner.list(filter)).map(taskJson) };
      },
    },
    {
      method: 'GET',
      path: '/tasks/:id',
      async handle({ params }) {
        return { kind: 'json', body: taskJson(await find(params.id)) };
      },
    },
    {
      method: 'GET',
      path: '/tasks/:id/output',
      async handle({ params, query, headers }) {
        const row = await find(params.id);
        const type = query.get('type') ?? 'debug';
        if (type === 'none') return { kind: 'empty', status: 204 };
        const parsed = TaskOutputType.safeParse(type);
        if (!parsed.success) throw new ValidationInvalidType(`Unknown task output type '${type}'`);
        return outputReply(taskOutputPath(stateDir, row.id, parsed.data), headers.range);
      },
    },
    {
      method: 'DELETE',
      path: '/task/:id',
      async handle({ params }) {
        const row = await find(params.id);
        await runner.cancel(row.id);
        return { kind: 'empty', status: 204 };
      },
    },
    {
      method: 'POST',
      path: '/tasks/cancel',
      async handle(request) {
        const body = await readJson(request, CancelTasksBody);
        const filter: { -readonly [K in keyof TaskFilter]: TaskFilter[K] } = {
          states: body.states ?? ['queued', 'processing'],
        };
        if (body.types !== undefined) filter.types = body.types;
        if (body.deployment !== undefined) filter.deployment = body.deployment;
        for (const row of await runner.list(filter)) {
          // A task that ended meanwhile is fine: only running ones can be cancelled.
          await runner.cancel(row.id).catch((error: unknown) => {
            if (!(error instanceof TaskInvalidState)) throw error;
          });
        }
        return { kind: 'empty', status: 204 };
      },
    },
  ];
}

/**
 * A task output file as text/plain, streamed. `Range: bytes=N-` (what the CLI sends while it
 * follows a task) gets 206 with the bytes from N, or 416 when there is nothing new.
 */
export async function outputReply(path: string, range: string | undefined): Promise<RouteReply> {
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'empty', status: 204 };
    throw error;
  }
  const match = range === undefined ? null : /^bytes=(\d+)-(\d*)$/.exec(range.trim());
  if (match === null) {
    if (size === 0) return { kind: 'empty', status: 204 };
    return {
      kind: 'stream',
      status: 200,
      headers: { 'Content-Type': 'text/plain', 'Content-Length': String(size), 'Accept-Ranges': 'bytes' },
      body: createReadStream(path, { start: 0, end: size - 1 }),
    };
  }
  const start = Number(match[1]);
  const end = match[2] === '' || match[2] === undefined ? size - 1 : Math.min(Number(match[2]), size - 1);
  if (start >= size || end < start) {
    return {
      kind: 'stream',
      status: 416,
      headers: { 'Content-Range': `bytes */${size}`, 'Content-Length': '0' },
      body: emptyStream(),
    };
  }
  return {
    kind: 'stream',
    status: 206,
    headers: {
      'Content-Type': 'text/plain',
      'Content-Range': `bytes ${start}-${end}/${size}`,
      'Content-Length': String(end - start + 1),
    },
    body: createReadStream(path, { start, end }),
  };
}

function emptyStream() {
  return Readable.from([]);
}
