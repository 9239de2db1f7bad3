import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { EventLine } from '@refit/protocol';
import { silentLog } from '../config/director-log.ts';
import { coreMigration } from '../db/core-migration.ts';
import type { Db } from '../db/db.ts';
import { PostgresDb } from '../db/postgres-db.ts';
import { SqliteDb } from '../db/sqlite-db.ts';
import { testBackends, type TestDatabase } from '../db/test-databases.ts';
import { StemcellNotFound, TaskInvalidState, TaskNotFound } from '../errors.ts';
import type { TaskHandler } from './task-context.ts';
import { INTERRUPTED_MESSAGE, TaskRunner } from './task-runner.ts';
import { taskOutputPath } from './task-files.ts';
import { TaskStore } from './task-store.ts';

interface GateParams {
  readonly name: string;
  readonly fail?: string;
}

/** A handler whose tasks run until the test opens their gate (or they are aborted). */
function gatedHandler() {
  const gates = new Map<string, () => void>();
  const started: string[] = [];
  const recovered: string[] = [];
  const waiters: (() => void)[] = [];
  const handler: TaskHandler<GateParams> = {
    type: 'gated',
    parseParams: (raw) => raw as GateParams,
    async run(ctx, params) {
      started.push(params.name);
      waiters.splice(0).forEach((wake) => wake());
      await ctx.events.stage('Gate').task(params.name, async () => {
        await new Promise<void>((resolve, reject) => {
          gates.set(params.name, resolve);
          ctx.signal.addEventListener('abort', () => reject(new Error('aborted')), { once: true });
        });
      });
      ctx.result.write(`{"name":"${params.name}"}`);
      if (params.fail === 'director') throw new StemcellNotFound(`Stemcell '${params.name}' doesn't exist`);
      if (params.fail === 'long') throw new Error('x'.repeat(300));
      return `/gates/${params.name}`;
    },
    recover(params) {
      recovered.push(params.name);
      return Promise.resolve();
    },
  };
  return {
    handler: handler as TaskHandler<unknown>,
    started,
    recovered,
    open(name: string) {
      const gate = gates.get(name);
      assert.ok(gate, `task ${name} is not waiting`);
      gate();
    },
    /** Waits until `count` tasks have started (fails the test after 10 s). */
    async startedCount(count: number) {
      const deadline = Date.now() + 10_000;
      while (started.length < count) {
        assert.ok(Date.now() < deadline, `only ${started.length} of ${count} tasks started`);
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 50);
        });
      }
    },
  };
}

async function waitForState(runner: TaskRunner, id: number, states: readonly string[]) {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const row = await runner.get(id);
    if (row !== null && states.includes(row.state)) return row;
    assert.ok(Date.now() < deadline, `task ${id} is ${row?.state}, expected ${states.join('|')}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

for (const backend of testBackends()) {
  describe(`TaskRunner on ${backend.name}`, { skip: backend.skip }, () => {
    let t: TestDatabase;
    let stateDir: string;
    let runner: TaskRunner;
    let gate: ReturnType<typeof gatedHandler>;
    const makeRunner = (workers = 3) => {
      const made = new TaskRunner({
        store: new TaskStore(t.db),
        stateDir,
        workers,
        runnerId: 'test-runner',
        log: silentLog,
        pollMs: 50,
        checkpointMs: 200,
      });
      made.register([gate.handler]);
      return made;
    };
    const enqueue = (name: string, extra: { locks?: string[]; fail?: string } = {}) =>
      runner.enqueue({
        type: 'gated',
        description: `gate ${name}`,
        user: 'admin',
        deployment: 'dep',
        params: { name, fail: extra.fail },
        locks: extra.locks ?? [],
      });

    beforeEach(async () => {
      t = await backend.create({ migrations: [coreMigration] });
      stateDir = await mkdtemp(join(tmpdir(), 'refit-tasks-'));
      gate = gatedHandler();
      runner = makeRunner();
    });
    afterEach(async () => {
      await runner.stop(2000);
      await t.cleanup();
      await rm(stateDir, { recursive: true, force: true });
    });

    it('runs a task to done and writes its event and result outputs', async () => {
      runner.start();
      const id = await runner.enqueue({
        type: 'gated',
        description: 'gate a',
        user: 'admin',
        deployment: 'dep',
        contextId: 'ctx-1',
        params: { name: 'a' },
      });
      await gate.startedCount(1);
      assert.equal((await runner.get(id))?.state, 'processing');
      gate.open('a');
      const row = await waitForState(runner, id, ['done']);
      assert.equal(row.result, '/gates/a');
      assert.equal(row.context_id, 'ctx-1');
      assert.equal(typeof row.finished_ms, 'number');
      const events = (await readFile(taskOutputPath(stateDir, id, 'event'), 'utf8')).trim().split('\n');
      assert.deepEqual(
        events.map((line) => (EventLine.parse(JSON.parse(line)) as { state: string }).state),
        ['started', 'finished'],
      );
      assert.equal(await readFile(taskOutputPath(stateDir, id, 'result'), 'utf8'), '{"name":"a"}\n');
      assert.match(await readFile(taskOutputPath(stateDir, id, 'debug'), 'utf8'), /Starting task/);
    });

    it('ends a failing task in error with the code in the event log and a truncated result', async () => {
      runner.start();
      const director = await enqueue('d', { fail: 'director' });
      const long = await enqueue('l', { fail: 'long' });
      await gate.startedCount(2);
      gate.open('d');
      gate.open('l');
      const failed = await waitForState(runner, director, ['error']);
      assert.equal(failed.result, "Stemcell 'd' doesn't exist");
      const lines = (await readFile(taskOutputPath(stateDir, director, 'event'), 'utf8')).trim().split('\n');
      assert.deepEqual(JSON.parse(lines.at(-1)!).error, {
        code: 50003,
        message: "Stemcell 'd' doesn't exist",
      });
      const truncated = await waitForState(runner, long, ['error']);
      assert.equal(truncated.result?.length, 128);
      assert.ok(truncated.result?.endsWith('...'));
    });

    it('cancels a queued task at once and a processing one through its signal', async () => {
      runner = makeRunner(1);
      runner.start();
      const first = await enqueue('first');
      await gate.startedCount(1);
      const second = await enqueue('second');
      assert.equal(await runner.cancel(second), 'cancelled');
      assert.equal((await runner.get(second))?.state, 'cancelled');
      assert.equal(await runner.cancel(first), 'cancelling');
      const row = await waitForState(runner, first, ['cancelled']);
      assert.equal(row.result, 'task cancelled');
      const lines = (await readFile(taskOutputPath(stateDir, first, 'event'), 'utf8')).trim().split('\n');
      assert.equal(JSON.parse(lines.at(-1)!).error.code, 10003);
      await assert.rejects(runner.cancel(first), TaskInvalidState);
      await assert.rejects(runner.cancel(first), /Cannot cancel task \d+: invalid state \(cancelled\)/);
      await assert.rejects(runner.cancel(9999), TaskNotFound);
      assert.deepEqual(gate.started, ['first']);
    });

    it('runs tasks sharing a lock one after the other, and others beside them', async () => {
      runner.start();
      const a = await enqueue('a', { locks: ['lock:deployment:x'] });
      await gate.startedCount(1);
      const b = await enqueue('b', { locks: ['lock:deployment:x'] });
      const c = await enqueue('c', { locks: ['lock:deployment:y'] });
      await gate.startedCount(2);
      assert.deepEqual(gate.started, ['a', 'c']);
      assert.equal((await runner.get(b))?.state, 'queued');
      const locks = await new TaskStore(t.db).locks();
      assert.deepEqual(
        locks.map((lock) => [lock.name, lock.task_id]),
        [
          ['lock:deployment:x', a],
          ['lock:deployment:y', c],
        ],
      );
      gate.open('a');
      await gate.startedCount(3);
      assert.equal(gate.started[2], 'b');
      gate.open('b');
      gate.open('c');
      await waitForState(runner, b, ['done']);
      await waitForState(runner, c, ['done']);
      await runner.idle();
      assert.deepEqual(await new TaskStore(t.db).locks(), []);
    });

    it('never runs more tasks than it has workers', async () => {
      runner = makeRunner(2);
      runner.start();
      const ids = [await enqueue('1'), await enqueue('2'), await enqueue('3')];
      await gate.startedCount(2);
      assert.equal((await runner.get(ids[2]!))?.state, 'queued');
      gate.open('1');
      await gate.startedCount(3);
      gate.open('2');
      gate.open('3');
      for (const id of ids) await waitForState(runner, id, ['done']);
    });

    it('marks a task left running by a dead director as error, recovers it and frees its lock', async () => {
      runner.start();
      const id = await enqueue('orphan', { locks: ['lock:deployment:dep'] });
      await gate.startedCount(1);
      // Simulate a crash: the row stays processing with its lock, nothing finishes it.
      const crashed = runner;
      runner = makeRunner();
      await crashed.stop(10).catch(() => undefined);
      await t.db.execute(
        `UPDATE tasks SET state = 'processing', result = NULL, finished_ms = NULL WHERE id = $1`,
        [id],
      );
      await t.db.execute(
        'INSERT INTO task_locks (name, task_id, acquired_ms, expires_ms) VALUES ($1, $2, 0, 0) ON CONFLICT (name) DO NOTHING',
        ['lock:deployment:dep', id],
      );
      assert.deepEqual(await runner.recoverInterrupted(), [id]);
      const row = await runner.get(id);
      assert.equal(row?.state, 'error');
      assert.equal(row?.result, INTERRUPTED_MESSAGE);
      assert.deepEqual(gate.recovered, ['orphan']);
      assert.deepEqual(await new TaskStore(t.db).locks(), []);
      const lines = (await readFile(taskOutputPath(stateDir, id, 'event'), 'utf8')).trim().split('\n');
      assert.deepEqual(JSON.parse(lines.at(-1)!).error, { code: 100, message: INTERRUPTED_MESSAGE });
    });

    it('shares one database between two directors: every task runs exactly once', async () => {
      const second: Db = t.url === null ? new SqliteDb(t.file ?? '') : new PostgresDb(t.url, { max: 4 });
      const ran: string[] = [];
      const quick: TaskHandler<{ name: string }> = {
        type: 'quick',
        parseParams: (raw) => raw as { name: string },
        async run(_ctx, params) {
          ran.push(params.name);
          await new Promise((resolve) => setTimeout(resolve, 5));
          return 'ok';
        },
      };
      const runners = [t.db, second].map((db, i) => {
        const made = new TaskRunner({
          store: new TaskStore(db),
          stateDir,
          workers: 3,
          runnerId: `director-${i}`,
          log: silentLog,
          pollMs: 10,
        });
        made.register([quick]);
        return made;
      });
      try {
        const ids: number[] = [];
        for (let i = 0; i < 30; i += 1) {
          ids.push(
            await runners[i % 2]!.enqueue({
              type: 'quick',
              description: 'quick',
              user: 'admin',
              params: { name: `t${i}` },
              locks: [`lock:quick:${i % 4}`],
            }),
          );
        }
        runners.forEach((r) => r.start());
        for (const id of ids) await waitForState(runners[0]!, id, ['done']);
        assert.equal(ran.length, 30);
        assert.equal(new Set(ran).size, 30);
      } finally {
        for (const r of runners) await r.stop(1000);
        await second.close();
      }
    });

    it('lists newest first with state, type, deployment, context and limit filters', async () => {
      const store = new TaskStore(t.db);
      const ids: number[] = [];
      for (const [type, deployment, contextId] of [
        ['update_stemcell', null, ''],
        ['vms', 'cf', 'c1'],
        ['update_deployment', 'cf', 'c1'],
      ] as const) {
        ids.push(
          await store.insert(
            { type, description: type, user: 'admin', deployment, contextId, params: {}, locks: [] },
            1,
          ),
        );
      }
      const names = async (filter: Parameters<TaskStore['list']>[0]) =>
        (await store.list(filter)).map((r) => r.id);
      assert.deepEqual(await names({}), [...ids].reverse());
      assert.deepEqual(await names({ limit: 1 }), [ids[2]]);
      assert.deepEqual(await names({ deployment: 'cf' }), [ids[2], ids[1]]);
      assert.deepEqual(await names({ contextId: 'c1', types: ['vms'] }), [ids[1]]);
      assert.deepEqual(await names({ states: ['done'] }), []);
      assert.deepEqual(await names({ states: [] }), []);
    });
  });
}
