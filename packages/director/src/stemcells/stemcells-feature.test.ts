// stemcellsFeature in process, against both databases: routes called directly, tasks run by the
// real TaskRunner, the CPI the real ExternalProcessCloud over the test CPI executable.
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { StemcellListItem } from '@refit/protocol';
import { createTestCpi, type TestCpi } from '@refit/testkit/cpi/test-cpi-fixture.ts';
import type { Route, RouteReply } from '../api/route.ts';
import { LocalDirBlobstore } from '../blobstore/local-dir-blobstore.ts';
import { silentLog } from '../config/director-log.ts';
import { ExternalProcessCloud } from '../cpi-client/external-process-cloud.ts';
import { coreMigration } from '../db/core-migration.ts';
import { rootfsMigration } from '../db/migrations/003-rootfs.ts';
import { testBackends, type TestDatabase } from '../db/test-databases.ts';
import { DbEventRecorder } from '../events/db-event-recorder.ts';
import type { DirectorDeps } from '../feature.ts';
import { TaskRunner } from '../tasks/task-runner.ts';
import { TaskStore } from '../tasks/task-store.ts';
import { stemcellsFeature } from './index.ts';
import { finishedTask, routeCaller } from './route-calls.test-support.ts';
import { stemcellTgz } from './upload-fixtures.test-support.ts';

for (const backend of testBackends()) {
  describe(`stemcellsFeature on ${backend.name}`, { skip: backend.skip }, () => {
    let t: TestDatabase;
    let dir: string;
    let runner: TaskRunner;
    let cpi: TestCpi;
    let routes: readonly Route[];

    beforeEach(async () => {
      t = await backend.create({
        migrations: [coreMigration, ...stemcellsFeature.migrations, rootfsMigration],
      });
      dir = await mkdtemp(join(tmpdir(), 'refit-stemcells-feature-'));
      cpi = await createTestCpi(join(dir, 'cpi'));
      runner = new TaskRunner({
        store: new TaskStore(t.db),
        stateDir: dir,
        workers: 2,
        runnerId: 'stemcells-test',
        log: silentLog,
        pollMs: 20,
      });
      const blobstore = new LocalDirBlobstore(join(dir, 'blobs'));
      await blobstore.start();
      const deps: DirectorDeps = {
        db: t.db,
        tasks: runner,
        blobstore,
        cloud: new ExternalProcessCloud({
          name: 'test-cpi',
          command: cpi.command,
          args: cpi.args,
          directorUuid: 'uuid',
          timeoutMs: 20_000,
        }),
        events: new DbEventRecorder(t.db),
        stateDir: dir,
        tmpDir: join(dir, 'tmp'),
        directorUuid: 'uuid',
        directorName: 'test',
      };
      runner.register(stemcellsFeature.taskHandlers(deps));
      await stemcellsFeature.startup?.(deps);
      routes = stemcellsFeature.routes(deps);
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
      const reply = await call('GET', '/stemcells');
      return reply.kind === 'json' ? (reply.body as StemcellListItem[]) : [];
    };

    it('uploads through the CPI, skips an existing version, deletes, and records events', async () => {
      const body = await stemcellTgz({ name: 's', version: '1' });
      const first = await task(await call('POST', '/stemcells', body));
      assert.equal(first.state, 'done', first.result ?? '');
      assert.equal(first.result, '/stemcells/s/1');
      const [saved] = await list();
      assert.match(saved?.cid ?? '', /^stemcell-/);
      assert.equal(saved?.cpi, '', 'the single CPI is not named, as in BOSH');
      const needed = await call(
        'POST',
        '/stemcell_uploads',
        JSON.stringify({ stemcell: { name: 's', version: '1' } }),
      );
      assert.deepEqual(needed.kind === 'json' ? needed.body : null, { needed: false });

      assert.equal((await task(await call('POST', '/stemcells', body))).state, 'done');
      assert.deepEqual(await list(), [saved]);
      assert.equal((await cpi.calls()).filter((c) => c.method === 'create_stemcell').length, 1);

      assert.equal((await task(await call('DELETE', '/stemcells/s/1'))).state, 'done');
      assert.deepEqual(await list(), []);
      const deleted = (await cpi.calls()).filter((c) => c.method === 'delete_stemcell');
      assert.deepEqual(deleted[0]?.arguments, [saved?.cid]);
      assert.deepEqual(await readdir(join(dir, 'tmp', 'stemcell-uploads')), []);
      const events = await t.db.query<{ action: string; object_name: string }>(
        "SELECT action, object_name FROM events WHERE object_type = 'stemcell' ORDER BY id",
      );
      assert.deepEqual(
        events.map((e) => [e.action, e.object_name]),
        [
          ['create', 's/1'],
          ['create', 's/1'],
          ['delete', 's/1'],
        ],
      );
    });

    it('leaves no row and no files when the CPI fails', async () => {
      await cpi.configure({ faults: { create_stemcell: 'cloud_error' } });
      const failed = await task(await call('POST', '/stemcells', await stemcellTgz()));
      assert.equal(failed.state, 'error');
      assert.match(failed.result ?? '', /CloudError/);
      assert.deepEqual(await list(), []);
      assert.deepEqual(await readdir(join(dir, 'tmp', 'stemcell-uploads')), []);
    });
  });
}
