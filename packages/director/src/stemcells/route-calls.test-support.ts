// Calls a feature's routes in process (no HTTP server) and waits for the tasks they queue, for
// the feature tests beside the code.
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import type { HttpMethod, Route, RouteReply, RouteRequest } from '../api/route.ts';
import type { TaskRunner } from '../tasks/task-runner.ts';

export function routeCaller(routes: readonly Route[]) {
  return async function call(method: HttpMethod, path: string, body?: Buffer | string): Promise<RouteReply> {
    const [pathname = '', search = ''] = path.split('?');
    for (const route of routes) {
      const pattern = new RegExp(`^${route.path.replace(/:(\w+)/g, '(?<$1>[^/]+)')}$`);
      const match = pattern.exec(pathname);
      if (route.method !== method || !match) continue;
      const request: RouteRequest = {
        method,
        path: pathname,
        params: { ...match.groups },
        query: new URLSearchParams(search),
        headers: {
          'content-type': typeof body === 'string' ? 'application/json' : 'application/x-compressed',
        },
        user: 'admin',
        body: Readable.from(body === undefined ? [] : [Buffer.from(body)]),
        signal: AbortSignal.timeout(10_000),
      };
      return route.handle(request);
    }
    throw new Error(`no route for ${method} ${path}`);
  };
}

/** Waits (10 s at most) for the task a route answered with to finish; returns its row. */
export async function finishedTask(runner: TaskRunner, reply: RouteReply) {
  assert.equal(reply.kind, 'task');
  const id = reply.kind === 'task' ? reply.taskId : 0;
  const deadline = Date.now() + 10_000;
  for (;;) {
    const row = await runner.get(id);
    if (row && !['queued', 'processing', 'cancelling'].includes(row.state)) return row;
    assert.ok(Date.now() < deadline, `task ${id} did not finish`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
