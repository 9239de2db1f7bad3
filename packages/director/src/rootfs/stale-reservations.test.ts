// Reservations left by a director that died mid-reload are released at its next start (after
// its interrupted tasks are failed) and before delete-rootfs checks the holders; those of tasks
// still queued or running stay. Against both databases.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { silentLog } from '../config/director-log.ts';
import { coreMigration } from '../db/core-migration.ts';
import { stemcellsMigration } from '../db/migrations/002-stemcells.ts';
import { rootfsMigration } from '../db/migrations/003-rootfs.ts';
import { testBackends, type TestDatabase } from '../db/test-databases.ts';
import { reserveRootfs } from '../deployments/reload-preflight.ts';
import type { DirectorDeps } from '../feature.ts';
import { TaskRunner } from '../tasks/task-runner.ts';
import { TaskStore } from '../tasks/task-store.ts';
import { rootfsFeature } from './index.ts';
import { RootfsStore } from './rootfs-store.ts';
import { releaseStaleReservations } from './stale-reservations.ts';

for (const backend of testBackends()) {
  describe(`stale rootfs reservations on ${backend.name}`, { skip: backend.skip }, () => {
    let t: TestDatabase;
    let dir: string;
    let rootfsId: number;
    const holders = () => new RootfsStore(t.db).reservationHolders(rootfsId);
    const newTask = (state: string, runner: string | null = null) =>
      new TaskStore(t.db)
        .insert(
          {
            type: 'update_deployment',
            description: 'create deployment',
            user: 'admin',
            deployment: 'd',
            contextId: '',
            params: null,
            locks: [],
          },
          Date.now(),
        )
        .then(async (id) => {
          await t.db.execute('UPDATE tasks SET state = $1, runner = $2 WHERE id = $3', [state, runner, id]);
          return id;
        });

    beforeEach(async () => {
      t = await backend.create({ migrations: [coreMigration, stemcellsMigration, rootfsMigration] });
      dir = await mkdtemp(join(tmpdir(), 'refit-stale-reservations-'));
      rootfsId = (
        await new RootfsStore(t.db).insert({
          name: 'refit-generic-jammy',
          version: '1.2',
          operatingSystem: 'ubuntu-jammy',
          apiVersion: 1,
          sha256: 'c'.repeat(64),
          size: 1,
          blobstoreId: 'blob-1',
        })
      ).id;
    });
    afterEach(async () => {
      await t.cleanup();
      await rm(dir, { recursive: true, force: true });
    });

    it('releases the reservations of tasks that ended or vanished, keeps live and non-task ones', async () => {
      const live = await newTask('processing');
      const queued = await newTask('queued');
      const ended = await newTask('error');
      const done = await newTask('done');
      for (const holder of [live, queued, ended, done, 999_999].map((id) => `task:${id}`)) {
        await reserveRootfs(t.db, [rootfsId], holder);
      }
      await reserveRootfs(t.db, [rootfsId], 'deployment:d');
      const released = await releaseStaleReservations(t.db);
      assert.deepEqual(released, [`task:${done}`, `task:${ended}`, 'task:999999'].sort());
      assert.deepEqual(await holders(), ['deployment:d', `task:${live}`, `task:${queued}`].sort());
      assert.deepEqual(await releaseStaleReservations(t.db), [], 'nothing more to release');
    });

    it('a director restart releases what its interrupted reload task held', async () => {
      // The previous director process ('old') died while its reload task ran.
      const crashed = await newTask('processing', 'old');
      await reserveRootfs(t.db, [rootfsId], `task:${crashed}`);
      assert.deepEqual(await holders(), [`task:${crashed}`]);
      // The restart, as main.ts orders it: interrupted tasks failed, then features' startup.
      const runner = new TaskRunner({
        store: new TaskStore(t.db),
        stateDir: dir,
        workers: 1,
        runnerId: 'old',
        log: silentLog,
      });
      assert.deepEqual(await runner.recoverInterrupted(), [crashed]);
      await rootfsFeature.startup?.({ db: t.db, tmpDir: join(dir, 'tmp') } as DirectorDeps);
      assert.deepEqual(await holders(), []);
      assert.equal((await new TaskStore(t.db).get(crashed))?.state, 'error');
    });
  });
}
