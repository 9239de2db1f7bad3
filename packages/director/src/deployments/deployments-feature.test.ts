import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createDirectorLog } from '../config/director-log.ts';
import { configsFeature } from '../configs/configs-feature.ts';
import { coreMigration } from '../db/core-migration.ts';
import { testBackends, type TestDatabase } from '../db/test-databases.ts';
import { BadManifest, DeploymentNotFound } from '../errors.ts';
import { DbIpReservationStore } from '../networking/ip-reservation-store.ts';
import { planDeployment } from '../planner/plan-deployment.ts';
import { compile, sequentialIds } from '../planner/planner-fixtures.test-support.ts';
import { releasesFeature } from '../releases/index.ts';
import { routeCaller } from '../stemcells/route-calls.test-support.ts';
import { stemcellsFeature } from '../stemcells/index.ts';
import { TaskRunner } from '../tasks/task-runner.ts';
import { TaskStore } from '../tasks/task-store.ts';
import { deploymentsMigration } from './006-deployments.ts';
import { persistentDiskActiveMigration } from './017-persistent-disk-active.ts';
import { orphanDisksMigration } from '../disks/015-orphan-disks.ts';
import { deploymentRoutes } from './deployment-routes.ts';
import { DeploymentStore } from './deployment-store.ts';
import { ipReservationsMigration } from '../networking/index.ts';

const log = createDirectorLog({ file: null, level: 'error', stderr: false });

for (const backend of testBackends()) {
  describe(`deployments on ${backend.name}`, { skip: backend.skip }, () => {
    let database: TestDatabase;
    let call: ReturnType<typeof routeCaller>;
    before(async () => {
      database = await backend.create({
        migrations: [
          coreMigration,
          ...configsFeature.migrations,
          ...stemcellsFeature.migrations,
          ...releasesFeature.migrations,
          ipReservationsMigration,
          deploymentsMigration,
          persistentDiskActiveMigration,
          orphanDisksMigration,
        ],
      });
      // Not started: enqueued tasks stay queued, so their params can be read back.
      const runner = new TaskRunner({
        store: new TaskStore(database.db),
        stateDir: '/nonexistent',
        workers: 1,
        runnerId: 't',
        log,
      });
      runner.register([
        { type: 'update_deployment', parseParams: (p) => p, run: () => Promise.resolve('') },
        { type: 'delete_deployment', parseParams: (p) => p, run: () => Promise.resolve('') },
        { type: 'vms', parseParams: (p) => p, run: () => Promise.resolve('') },
      ]);
      call = routeCaller(deploymentRoutes({ db: database.db, tasks: runner }));
    });
    after(() => database.cleanup());

    const taskRow = async (id: number) => {
      const [row] = await database.db.query<{
        description: string;
        params: string;
        locks: string;
        type: string;
      }>('SELECT description, params, locks, type FROM tasks WHERE id = $1', [id]);
      assert.ok(row);
      return {
        ...row,
        params: JSON.parse(row.params) as Record<string, unknown>,
        locks: JSON.parse(row.locks) as string[],
      };
    };

    it('what the updater records makes a converged deployment re-plan to nothing', async () => {
      const deployment = compile();
      const plan = planDeployment({
        deployment,
        current: { instances: [], reservations: [] },
        newId: sequentialIds(),
      });
      const store = new DeploymentStore(database.db);
      const state = store.stateStore('dep');
      await store.ensure('dep');
      await new DbIpReservationStore(database.db).apply(plan.ipReservations);
      for (const i of plan.instanceGroups[0]?.instances ?? []) {
        await store.createInstance('dep', i);
        await state.updateStarted(i.id);
        await state.vmCreated(i.id, {
          cid: `vm-${i.id}`,
          agentId: `agent-${i.id}`,
          stemcell: { name: i.stemcell?.name ?? '', version: i.stemcell?.version ?? '' },
          cloudProperties: i.cloudProperties,
          env: i.env,
          networkSettings: i.networkSettings,
          createdAt: '2026-01-01T00:00:00Z',
        });
        if (i.persistentDisk) await state.diskCreated(i.id, { cid: `disk-${i.id}`, ...i.persistentDisk });
        await state.updateCompleted(i.id, {
          state: 'started',
          hashes: { packages: 'p1', job: 'j1', configuration: 'c1' },
          applySpec: { job: { templates: [] }, networks: {}, packages: {}, persistent_disk: 0 },
        });
      }
      const instances = await store.instances('dep');
      assert.equal(instances.length, 3);
      assert.ok(instances.every((i) => i.updateCompleted && i.vm !== null && i.disk !== null));
      const again = planDeployment({
        deployment,
        current: {
          instances,
          reservations: await new DbIpReservationStore(database.db).forDeployment('dep'),
        },
        renderedHashes: new Map(
          instances.map((i) => [i.id, { packages: 'p1', job: 'j1', configuration: 'c1' }]),
        ),
        newId: sequentialIds('new'),
      });
      assert.deepEqual(
        again.instanceGroups.flatMap((g) => g.instances.map((i) => [i.action, [...i.changes]])),
        [
          ['none', []],
          ['none', []],
          ['none', []],
        ],
      );
      assert.deepEqual(again.ipReservations.add, []);
      // Listed from its first deploy on (as BOSH does, also when that deploy failed).
      await store.saveManifest('dep', 'name: dep\n', null);
      const listed = await call('GET', '/deployments');
      assert.deepEqual(listed.kind === 'json' ? listed.body : null, [
        { name: 'dep', teams: [], cloud_config: 'none', releases: [], stemcells: [], locked: false },
      ]);
      const vms = await call('GET', '/deployments/dep/vms');
      assert.equal(vms.kind === 'json' ? (vms.body as unknown[]).length : -1, 3);
      const state0 = await store.instances('dep');
      await state.instanceDeleted(state0[0]?.id ?? '');
      assert.equal((await store.instances('dep')).length, 2);
      assert.equal((await new DbIpReservationStore(database.db).forDeployment('dep')).length, 2);
    });

    it('POST /deployments queues update_deployment with the query options and the deployment lock', async () => {
      const reply = await call(
        'POST',
        '/deployments?recreate=true&skip_drain=web&canaries=2&max_in_flight=50%25&dry_run=true&strategy=recreate&allow_downgrade=true',
        'name: fresh\n',
      );
      assert.equal(reply.kind, 'task');
      const row = await taskRow(reply.kind === 'task' ? reply.taskId : 0);
      assert.equal(row.type, 'update_deployment');
      assert.equal(row.description, 'create deployment');
      assert.deepEqual(row.locks, ['lock:deployment:fresh']);
      assert.deepEqual(row.params, {
        deployment: 'fresh',
        manifest: 'name: fresh\n',
        dryRun: true,
        options: {
          recreate: true,
          skipDrain: ['web'],
          canaries: 2,
          maxInFlight: '50%',
          stemcellStrategy: 'recreate',
          allowDowngrade: true,
        },
        lockHeld: null,
      });
    });

    it('a deploy while another task holds the lock is queued to fail without the lock', async () => {
      const holder = await call('POST', '/deployments', 'name: busy\n');
      const holderId = holder.kind === 'task' ? holder.taskId : 0;
      await database.db.execute(
        'INSERT INTO task_locks (name, task_id, acquired_ms, expires_ms) VALUES ($1, $2, 0, $3)',
        ['lock:deployment:busy', holderId, Date.now() + 60_000],
      );
      const second = await call('POST', '/deployments', 'name: busy\n');
      const row = await taskRow(second.kind === 'task' ? second.taskId : 0);
      assert.deepEqual(row.locks, []);
      assert.deepEqual(row.params.lockHeld, { taskId: holderId, description: 'create deployment' });
    });

    it('refuses a manifest without a name, answers diffs for new deployments and diff errors with 200', async () => {
      await assert.rejects(call('POST', '/deployments', 'releases: []\n'), BadManifest);
      await assert.rejects(call('POST', '/deployments', ': : :\n  - ['), BadManifest);
      const diff = await call('POST', '/deployments/new/diff', 'name: new\nproperties: {secret: x}\n');
      assert.deepEqual(diff.kind === 'json' ? diff.body : null, {
        context: { cloud_config_ids: [], runtime_config_ids: [] },
        diff: [
          ['name: new', 'added'],
          ['properties:', 'added'],
          ['  secret: <redacted>', 'added'],
        ],
      });
      const broken = await call('POST', '/deployments/new/diff', ': : :\n  - [');
      assert.equal(broken.kind, 'json');
      assert.deepEqual((broken as { body: { diff: unknown[] } }).body.diff, []);
      assert.equal(typeof (broken as { body: { error?: unknown } }).body.error, 'string');
      await assert.rejects(call('GET', '/deployments/none'), DeploymentNotFound);
      await assert.rejects(call('DELETE', '/deployments/none'), DeploymentNotFound);
    });
  });
}
