// rootfsFeature in process, against both databases: its routes called directly, its tasks run by
// the real TaskRunner, the real LocalDirBlobstore and event recorder.
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { RootfsListItem } from '@refit/protocol';
import type { Route, RouteReply } from '../api/route.ts';
import { LocalDirBlobstore } from '../blobstore/local-dir-blobstore.ts';
import { silentLog } from '../config/director-log.ts';
import { coreMigration } from '../db/core-migration.ts';
import { stemcellsMigration } from '../db/migrations/002-stemcells.ts';
import { testBackends, type TestDatabase } from '../db/test-databases.ts';
import { DbEventRecorder } from '../events/db-event-recorder.ts';
import type { DirectorDeps } from '../feature.ts';
import { TaskRunner } from '../tasks/task-runner.ts';
import { TaskStore } from '../tasks/task-store.ts';
import { finishedTask, routeCaller } from '../stemcells/route-calls.test-support.ts';
import { rootfsTgz, sha256 } from '../stemcells/upload-fixtures.test-support.ts';
import { rootfsFeature } from './index.ts';

for (const backend of testBackends()) {
  describe(`rootfsFeature on ${backend.name}`, { skip: backend.skip }, () => {
    let t: TestDatabase;
    let dir: string;
    let runner: TaskRunner;
    let deps: DirectorDeps;
    let routes: readonly Route[];

    beforeEach(async () => {
      t = await backend.create({
        migrations: [coreMigration, stemcellsMigration, ...rootfsFeature.migrations],
      });
      dir = await mkdtemp(join(tmpdir(), 'refit-rootfs-feature-'));
      runner = new TaskRunner({
        store: new TaskStore(t.db),
        stateDir: dir,
        workers: 2,
        runnerId: 'rootfs-test',
        log: silentLog,
        pollMs: 20,
      });
      const blobstore = new LocalDirBlobstore(join(dir, 'blobs'));
      await blobstore.start();
      deps = {
        db: t.db,
        tasks: runner,
        blobstore,
        cloud: {
          name: 'unused',
          info: () => Promise.reject(new Error('the rootfs feature never calls the CPI')),
          call: () => Promise.reject(new Error('the rootfs feature never calls the CPI')),
        },
        events: new DbEventRecorder(t.db),
        stateDir: dir,
        tmpDir: join(dir, 'tmp'),
        directorUuid: 'uuid',
        directorName: 'test',
      };
      runner.register(rootfsFeature.taskHandlers(deps));
      await rootfsFeature.startup?.(deps);
      routes = rootfsFeature.routes(deps);
      runner.start();
    });
    afterEach(async () => {
      await runner.stop(2000);
      await t.cleanup();
      await rm(dir, { recursive: true, force: true });
    });

    const call = (...args: Parameters<ReturnType<typeof routeCaller>>) => routeCaller(routes)(...args);
    const task = (reply: RouteReply) => finishedTask(runner, reply);
    const list = async () => {
      const reply = await call('GET', '/rootfs');
      return reply.kind === 'json' ? (reply.body as RootfsListItem[]) : [];
    };
    const blobs = async () => {
      const ids: string[] = [];
      for await (const id of deps.blobstore.list()) ids.push(id);
      return ids;
    };

    it('uploads, answers needed, refuses a held delete, deletes and records events', async () => {
      const needed = await call(
        'POST',
        '/rootfs_uploads',
        JSON.stringify({ rootfs: { name: 'r', version: '1' } }),
      );
      assert.deepEqual(needed.kind === 'json' ? needed.body : null, { needed: true });
      const bytes = await rootfsTgz({ name: 'r', version: '1' });
      const uploaded = await task(await call('POST', '/rootfs', bytes));
      assert.equal(uploaded.state, 'done');
      assert.equal(uploaded.result, '/rootfs/r/1');
      assert.deepEqual(
        (await list()).map((r) => [r.name, r.version, r.sha256, r.size]),
        [['r', '1', sha256(bytes), bytes.length]],
      );
      assert.deepEqual(await blobs(), [sha256(bytes)]);
      assert.deepEqual(await readdir(join(dir, 'tmp', 'rootfs-uploads')), []);
      // root.tar's sha256 as verified, for reloads (a VM keeping that root fetches nothing).
      const [digest] = await t.db.query<{ blobstore_id: string; root_sha256: string }>(
        'SELECT blobstore_id, root_sha256 FROM rootfs_root_digests',
      );
      assert.equal(digest?.blobstore_id, sha256(bytes));
      assert.match(String(digest?.root_sha256), /^[0-9a-f]{64}$/);
      assert.notEqual(digest?.root_sha256, sha256(bytes), "root.tar's digest, not rootfs.tgz's");

      const [row] = await t.db.query<{ id: number }>('SELECT id FROM rootfs');
      await t.db.execute(
        'INSERT INTO rootfs_reservations (rootfs_id, holder, created_at) VALUES ($1, $2, $3)',
        [row!.id, 'deployment:zk', 'now'],
      );
      const held = await task(await call('DELETE', '/rootfs/r/1'));
      assert.equal(held.state, 'error');
      assert.match(held.result ?? '', /needed by a reload in progress: deployment:zk/);
      await t.db.execute('DELETE FROM rootfs_reservations');
      assert.equal((await task(await call('DELETE', '/rootfs/r/1'))).state, 'done');
      assert.deepEqual(await list(), []);
      assert.deepEqual(await blobs(), []);

      const events = await t.db.query<{ action: string; object_name: string; error: string | null }>(
        "SELECT action, object_name, error FROM events WHERE object_type = 'rootfs' ORDER BY id",
      );
      assert.deepEqual(
        events.map((e) => [e.action, e.object_name, e.error === null]),
        [
          ['create', 'r/1', true],
          ['delete', 'r/1', false],
          ['delete', 'r/1', true],
        ],
      );
    });

    it('fails a bad upload without a row, a blob or scratch files', async () => {
      const bad = await task(await call('POST', '/rootfs', await rootfsTgz({ install: null })));
      assert.equal(bad.state, 'error');
      assert.match(bad.result ?? '', /Install script 'install'/);
      assert.deepEqual(await list(), []);
      assert.deepEqual(await blobs(), []);
      assert.deepEqual(await readdir(join(dir, 'tmp', 'rootfs-uploads')), []);
      const unknown = await task(await call('DELETE', '/rootfs/r/9'));
      assert.equal(unknown.state, 'error');
      assert.equal(unknown.result, "Rootfs 'r/9' doesn't exist");
    });
  });
}
