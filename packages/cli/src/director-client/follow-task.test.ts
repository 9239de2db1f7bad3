import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { json, startLocalHttpsServer, type LocalHttpsServer } from '../testing/local-https-server.ts';
import { DirectorClient } from './director-client.ts';
import { TaskFailedError } from './errors.ts';
import { followTask, type TaskOutputSink } from './follow-task.ts';
import { HttpsTransport } from './https-transport.ts';

function recordingSink(): TaskOutputSink & { log: string[] } {
  const log: string[] = [];
  return {
    log,
    taskStarted: (id) => log.push(`started ${id}`),
    taskOutputChunk: (_id, chunk) => log.push(`chunk ${chunk}`),
    taskFinished: (id, state) => log.push(`finished ${id} ${state}`),
  };
}

/**
 * A task whose event log grows by one line per poll, served with Range semantics: 206 with the
 * bytes from the offset, 416 when there is nothing new (as refit-director and BOSH do).
 */
function serveGrowingTask(server: LocalHttpsServer, id: number, lines: string[], finalState: string): void {
  let polls = 0;
  server.route(`GET /tasks/${id}`, (_req, res) => {
    polls += 1;
    const state = polls > lines.length ? finalState : 'processing';
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ id, state }));
  });
  server.route(`GET /tasks/${id}/output`, (req, res) => {
    const log = lines.slice(0, Math.min(polls, lines.length)).join('');
    const offset = Number(/bytes=(\d+)-/.exec(String(req.headers.range))?.[1] ?? 0);
    if (offset >= Buffer.byteLength(log)) {
      res.writeHead(416, { 'content-range': `bytes */${Buffer.byteLength(log)}` }).end();
      return;
    }
    res.writeHead(206).end(Buffer.from(log).subarray(offset));
  });
}

describe('followTask (real HTTPS)', () => {
  let server: LocalHttpsServer;
  let client: DirectorClient;
  before(async () => {
    server = await startLocalHttpsServer();
    client = new DirectorClient(new HttpsTransport({ baseUrl: new URL(server.url), caCert: server.caCert }));
  });
  after(async () => {
    client.close();
    await server.close();
  });

  it('polls state then output with Range, advances the offset, treats 416 as nothing new', async () => {
    serveGrowingTask(server, 5, ['{"a":1}\n', '{"b":2}\n', 'é\n'], 'done');
    const sink = recordingSink();
    const task = await followTask(client, 5, {
      type: 'event',
      sink,
      signal: AbortSignal.timeout(10_000),
      pollIntervalMs: 5,
    });
    assert.equal(task.state, 'done');
    assert.deepEqual(sink.log, [
      'started 5',
      'chunk {"a":1}\n',
      'chunk {"b":2}\n',
      'chunk é\n',
      'finished 5 done',
    ]);
    const outputRequests = server.requests.filter((r) => r.url.startsWith('/tasks/5/output'));
    assert.ok(outputRequests.every((r) => r.url === '/tasks/5/output?type=event'));
    assert.deepEqual(
      outputRequests.slice(0, 4).map((r) => r.headers.range),
      ['bytes=0-', 'bytes=8-', 'bytes=16-', 'bytes=19-'],
    );
  });

  it('fails with the stock message when the task ends in another state than done', async () => {
    serveGrowingTask(server, 6, ['{"time":1,"error":{"code":1,"message":"boom"}}\n'], 'error');
    const sink = recordingSink();
    await assert.rejects(
      followTask(client, 6, { type: 'debug', sink, signal: AbortSignal.timeout(10_000), pollIntervalMs: 5 }),
      (error: unknown) =>
        error instanceof TaskFailedError &&
        error.message === "Expected task '6' to succeed but state is 'error'",
    );
    assert.equal(sink.log.at(-1), 'finished 6 error');
    assert.ok(server.requests.some((r) => r.url === '/tasks/6/output?type=debug'));
  });

  it('does not repeat output when a director ignores Range and answers 200 with everything', async () => {
    let polls = 0;
    server.route('GET /tasks/8', (_req, res) => {
      polls += 1;
      void json({ id: 8, state: polls >= 2 ? 'done' : 'processing' })(_req, res);
    });
    server.route('GET /tasks/8/output', (_req, res) => {
      res.writeHead(200).end(polls >= 2 ? 'one\ntwo\n' : 'one\n');
    });
    const sink = recordingSink();
    await followTask(client, 8, {
      type: 'result',
      sink,
      signal: AbortSignal.timeout(10_000),
      pollIntervalMs: 5,
    });
    assert.deepEqual(sink.log, ['started 8', 'chunk one\n', 'chunk two\n', 'finished 8 done']);
  });
});
