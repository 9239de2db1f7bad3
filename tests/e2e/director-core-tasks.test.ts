import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ErrorBody, EventLine, LockItem, TaskJson } from '@refit/protocol';
import {
  directorBackends,
  eventually,
  startDirector,
  type DirectorProcess,
} from '../../packages/director/src/api/director-process.test-support.ts';

const INTERRUPTED = 'Task was running when the director stopped (director restarted)';

interface TestTask {
  seconds?: number;
  lines?: number;
  fail?: string;
  deployment?: string;
  locks?: string[];
  marker?: string;
}

for (const backend of directorBackends()) {
  describe(`director core tasks (${backend.name})`, { skip: backend.skip }, () => {
    let env: Awaited<ReturnType<typeof backend.setup>>;
    let director: DirectorProcess;
    const start = () =>
      startDirector({
        stateDir: env.stateDir,
        ...(env.configFile === undefined ? {} : { configFile: env.configFile }),
      });
    before(async () => {
      env = await backend.setup();
      director = await start();
    });
    after(async () => {
      await director?.stop();
      await env?.cleanup();
    });

    const submit = async (task: TestTask, headers: Record<string, string> = {}) => {
      const response = await director.request({
        method: 'POST',
        path: '/test_tasks',
        body: JSON.stringify(task),
        headers,
      });
      assert.equal(response.status, 302, response.text);
      const location = response.headers.location ?? '';
      assert.match(location, /^\/tasks\/\d+$/);
      return Number(location.split('/')[2]);
    };
    const task = async (id: number) =>
      TaskJson.parse((await director.request({ path: `/tasks/${id}` })).json());
    const until = (id: number, states: string[]) =>
      eventually(
        `task ${id} in ${states.join('|')}`,
        () => task(id),
        (t) => states.includes(t.state),
      );
    const list = async (query: string) =>
      TaskJson.array().parse((await director.request({ path: `/tasks${query}` })).json());
    const locks = async () => LockItem.array().parse((await director.request({ path: '/locks' })).json());

    it('lists tasks newest first with the state, verbose, deployment, limit and context filters', async () => {
      const ok = await submit({ marker: 'ok' }, { 'X-Bosh-Context-Id': 'ctx-e2e' });
      const bad = await submit({ marker: 'bad', fail: 'it went wrong', deployment: 'dep' });
      await until(ok, ['done']);
      await until(bad, ['error']);
      const done = await task(ok);
      assert.equal(done.result, 'test done ok');
      assert.equal(done.user, 'admin');
      assert.equal(done.context_id, 'ctx-e2e');
      assert.equal(typeof done.timestamp, 'number');
      assert.equal(typeof done.started_at, 'number');
      const all = await list('?verbose=2');
      assert.deepEqual(
        all.slice(0, 2).map((t) => t.id),
        [bad, ok],
      );
      // verbose=1 (and the default) shows only BOSH's user-facing task types.
      assert.ok((await list('?verbose=1')).every((t) => t.id !== ok && t.id !== bad));
      assert.ok((await list('')).every((t) => t.id !== ok));
      assert.deepEqual(
        (await list('?verbose=2&state=error')).map((t) => t.id),
        [bad],
      );
      assert.deepEqual(
        (await list('?verbose=2&state=processing,cancelling,queued')).map((t) => t.id),
        [],
      );
      assert.deepEqual(
        (await list('?verbose=2&deployment=dep')).map((t) => [t.id, t.deployment]),
        [[bad, 'dep']],
      );
      assert.deepEqual(
        (await list('?verbose=2&limit=1')).map((t) => t.id),
        [bad],
      );
      assert.deepEqual(
        (await list('?verbose=2&context_id=ctx-e2e')).map((t) => t.id),
        [ok],
      );
      const tooLong = await director.request({
        method: 'POST',
        path: '/test_tasks',
        body: '{}',
        headers: { 'X-Bosh-Context-Id': 'c'.repeat(65) },
      });
      assert.equal(tooLong.status, 400);
      assert.equal(ErrorBody.parse(tooLong.json()).code, 70010);
    });

    it('serves outputs: valid JSON event lines, Range 206/416, 204 when empty, the error line', async () => {
      const id = await submit({ marker: 'out', lines: 5 });
      await until(id, ['done']);
      const full = await director.request({ path: `/tasks/${id}/output?type=event` });
      assert.equal(full.status, 200);
      assert.match(full.headers['content-type'] ?? '', /^text\/plain/);
      const lines = full.text.split('\n').filter((line) => line !== '');
      assert.equal(lines.length, 15);
      for (const line of lines) EventLine.parse(JSON.parse(line));
      const size = full.body.length;
      const partial = await director.request({
        path: `/tasks/${id}/output?type=event`,
        headers: { Range: 'bytes=10-' },
      });
      assert.equal(partial.status, 206);
      assert.equal(partial.headers['content-range'], `bytes 10-${size - 1}/${size}`);
      assert.equal(partial.text, full.text.slice(10));
      const nothingNew = await director.request({
        path: `/tasks/${id}/output?type=event`,
        headers: { Range: `bytes=${size}-` },
      });
      assert.equal(nothingNew.status, 416);
      assert.equal(nothingNew.headers['content-range'], `bytes */${size}`);
      assert.equal((await director.request({ path: `/tasks/${id}/output?type=cpi` })).status, 204);
      assert.equal((await director.request({ path: `/tasks/${id}/output?type=none` })).status, 204);
      assert.equal(
        (await director.request({ path: `/tasks/${id}/output?type=result` })).text,
        '{"marker":"out"}\n',
      );
      assert.match(
        (await director.request({ path: `/tasks/${id}/output?type=debug` })).text,
        /Starting task/,
      );
      assert.equal((await director.request({ path: `/tasks/${id}/output?type=bogus` })).status, 400);

      const failed = await submit({ marker: 'f', fail: 'manifest is broken' });
      await until(failed, ['error']);
      const events = (await director.request({ path: `/tasks/${failed}/output?type=event` })).text
        .trim()
        .split('\n');
      const last = EventLine.parse(JSON.parse(events.at(-1) ?? ''));
      assert.deepEqual(last, {
        time: (last as { time: number }).time,
        error: { code: 40003, message: 'manifest is broken' },
      });
      assert.equal((await task(failed)).result, 'manifest is broken');
    });

    it('follows a running task the way the CLI does (Range from the bytes received)', async () => {
      const id = await submit({ marker: 'follow', lines: 3, seconds: 1 });
      let offset = 0;
      let received = '';
      for (;;) {
        const state = (await task(id)).state;
        const chunk = await director.request({
          path: `/tasks/${id}/output?type=event`,
          headers: { Range: `bytes=${offset}-` },
        });
        assert.ok([206, 204, 416].includes(chunk.status), `status ${chunk.status}`);
        if (chunk.status === 206) {
          received += chunk.text;
          offset += chunk.body.length;
        }
        if (!['queued', 'processing', 'cancelling'].includes(state)) break;
        await new Promise((ok) => setTimeout(ok, 100));
      }
      const full = await director.request({ path: `/tasks/${id}/output?type=event` });
      assert.equal(received, full.text);
    });

    it('cancels a queued task at once and a processing one through its signal; locks come and go', async () => {
      const running = await submit({
        marker: 'holder',
        seconds: 120,
        locks: ['lock:deployment:x'],
        deployment: 'x',
      });
      await until(running, ['processing']);
      const waiting = await submit({
        marker: 'waiter',
        seconds: 120,
        locks: ['lock:deployment:x'],
        deployment: 'x',
      });
      const held = await locks();
      assert.deepEqual(
        held.map((lock) => [lock.type, lock.resource, lock.task_id]),
        [['deployment', ['x'], String(running)]],
      );
      assert.match(held[0]?.timeout ?? '', /^\d+\.\d+$/);
      assert.equal((await task(waiting)).state, 'queued');

      assert.equal((await director.request({ method: 'DELETE', path: `/task/${waiting}` })).status, 204);
      assert.equal((await task(waiting)).state, 'cancelled');
      assert.equal((await director.request({ method: 'DELETE', path: `/task/${running}` })).status, 204);
      const cancelled = await until(running, ['cancelled']);
      assert.equal(cancelled.result, 'task cancelled');
      const events = (await director.request({ path: `/tasks/${running}/output?type=event` })).text
        .trim()
        .split('\n');
      assert.equal(JSON.parse(events.at(-1) ?? '{}').error.code, 10003);
      const again = await director.request({ method: 'DELETE', path: `/task/${running}` });
      assert.equal(again.status, 400);
      assert.deepEqual(again.json(), {
        code: 10001,
        description: `Cannot cancel task ${running}: invalid state (cancelled)`,
      });
      assert.deepEqual(await locks(), []);
    });

    it('cancels by POST /tasks/cancel and refuses states other than queued/processing', async () => {
      const a = await submit({ marker: 'c1', seconds: 120, locks: ['lock:deployment:y'] });
      const b = await submit({ marker: 'c2', seconds: 120, locks: ['lock:deployment:y'] });
      await until(a, ['processing']);
      const response = await director.request({
        method: 'POST',
        path: '/tasks/cancel',
        body: JSON.stringify({ types: ['test_task'], states: ['queued', 'processing'] }),
        headers: { 'Content-Type': 'application/json' },
      });
      assert.equal(response.status, 204);
      await until(a, ['cancelled']);
      await until(b, ['cancelled']);
      const bad = await director.request({
        method: 'POST',
        path: '/tasks/cancel',
        body: JSON.stringify({ states: ['done'] }),
      });
      assert.equal(bad.status, 400);
    });

    it('marks a task killed mid-run as error at the next start and releases its lock', async () => {
      const id = await submit({
        marker: 'killed',
        seconds: 300,
        locks: ['lock:deployment:k'],
        deployment: 'k',
      });
      await until(id, ['processing']);
      assert.equal((await locks()).length, 1);
      assert.deepEqual(await director.stop('SIGKILL'), { code: null, signal: 'SIGKILL' });
      director = await start();
      const after = await task(id);
      assert.equal(after.state, 'error');
      assert.equal(after.result, INTERRUPTED);
      assert.deepEqual(await locks(), []);
      assert.equal(await readFile(join(env.stateDir, 'test-task-recovered'), 'utf8'), 'killed\n');
      const events = (await director.request({ path: `/tasks/${id}/output?type=event` })).text
        .trim()
        .split('\n');
      assert.deepEqual(JSON.parse(events.at(-1) ?? '{}').error, { code: 100, message: INTERRUPTED });
      const next = await submit({ marker: 'after', locks: ['lock:deployment:k'] });
      assert.equal((await until(next, ['done', 'error'])).state, 'done');
    });

    it('ends running tasks on SIGTERM and exits 0', async () => {
      const id = await submit({ marker: 'term', seconds: 300 });
      await until(id, ['processing']);
      assert.deepEqual(await director.stop('SIGTERM'), { code: 0, signal: null });
      director = await start();
      const after = await task(id);
      assert.equal(after.state, 'error');
      assert.equal(after.result, 'Task was aborted because the director stopped');
    });
  });
}
