import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { coreMigration } from '../db/core-migration.ts';
import { stemcellsMigration } from '../db/migrations/002-stemcells.ts';
import { rootfsMigration } from '../db/migrations/003-rootfs.ts';
import { rootfsRootDigestsMigration } from '../rootfs/018-rootfs-root-digests.ts';
import { RootfsRootDigests } from '../rootfs/rootfs-root-digests.ts';
import { testBackends, type TestDatabase } from '../db/test-databases.ts';
import { planDeployment } from '../planner/plan-deployment.ts';
import { planSummary } from '../planner/plan-summary.ts';
import type { CurrentInstance, DeploymentPlan } from '../planner/plan-types.ts';
import {
  compile,
  convergedState,
  manifestValue,
  sequentialIds,
} from '../planner/planner-fixtures.test-support.ts';
import { RootfsStore } from '../rootfs/rootfs-store.ts';
import type { TaskContext } from '../tasks/task-context.ts';
import { reloadTarget } from './reload-target.ts';
import { initialPlan } from '../updater/updater-harness.test-support.ts';
import {
  dryRunRows,
  reloadableStemcells,
  reloadPreflight,
  ReloadRootfsMissing,
  reserveRootfs,
} from './reload-preflight.ts';

const onV11 = (i: CurrentInstance): CurrentInstance => ({
  ...i,
  vm: i.vm && { ...i.vm, stemcell: { ...i.vm.stemcell, version: '1.1' } },
});

function plan(reloadable: { operatingSystem: string; version: string }[]): DeploymentPlan {
  const state = convergedState(initialPlan());
  return planDeployment({
    deployment: compile(manifestValue()),
    current: { instances: state.instances.map(onV11), reservations: state.reservations },
    newId: sequentialIds('new'),
    options: { stemcellStrategy: 'reload' },
    reloadable,
  });
}

for (const backend of testBackends()) {
  describe(`reload preflight on ${backend.name}`, { skip: backend.skip }, () => {
    let t: TestDatabase;
    beforeEach(async () => {
      t = await backend.create({
        migrations: [coreMigration, stemcellsMigration, rootfsMigration, rootfsRootDigestsMigration],
      });
    });
    afterEach(() => t.cleanup());

    const insert = () =>
      new RootfsStore(t.db).insert({
        name: 'refit-generic-jammy',
        version: '1.2',
        operatingSystem: 'ubuntu-jammy',
        apiVersion: 1,
        sha256: 'c'.repeat(64),
        size: 54_000_000,
        blobstoreId: 'blob-1',
      });

    it('refuses a reload whose generic stemcell is missing, naming what to upload', async () => {
      assert.deepEqual(await reloadableStemcells(t.db), []);
      await assert.rejects(
        reloadPreflight(t.db, plan(await reloadableStemcells(t.db))),
        (e: unknown) =>
          e instanceof ReloadRootfsMissing &&
          /upload-rootfs ubuntu-jammy\/1\.2 \(instance groups: web\)/.test(e.message),
      );
    });

    it('maps every reloaded instance to its rootfs, reserves it for the task, releases it', async () => {
      const record = await insert();
      const p = plan(await reloadableStemcells(t.db));
      const { rootfs, plan: checked } = await reloadPreflight(t.db, p);
      assert.equal(rootfs.size, 3);
      assert.ok([...rootfs.values()].every((r) => r.id === record.id));
      const rows = dryRunRows(checked, planSummary(checked), rootfs);
      assert.deepEqual(
        rows.map((r) => [r.strategy, r.download_bytes]),
        [
          ['reload', 54_000_000],
          ['reload', 54_000_000],
          ['reload', 54_000_000],
        ],
      );
      const release = await reserveRootfs(
        t.db,
        [...rootfs.values()].map((r) => r.id),
        'task:7',
      );
      assert.deepEqual(await new RootfsStore(t.db).reservationHolders(record.id), ['task:7']);
      await release();
      assert.deepEqual(await new RootfsStore(t.db).reservationHolders(record.id), []);
    });

    it('recreates instead of reloading an instance whose jobs are not to run', async () => {
      await insert();
      const p = plan(await reloadableStemcells(t.db));
      const group = p.instanceGroups[0]!;
      const stopped: DeploymentPlan = {
        ...p,
        instanceGroups: [
          {
            ...group,
            instances: group.instances.map((i, n) =>
              n === 0 ? { ...i, desiredState: 'stopped' as const } : i,
            ),
          },
        ],
      };
      const { rootfs, plan: checked } = await reloadPreflight(t.db, stopped);
      const first = checked.instanceGroups[0]!.instances[0]!;
      assert.equal(first.stemcellStrategy?.strategy, 'recreate');
      assert.match(first.stemcellStrategy?.reason ?? '', /stopped .*commits only once its jobs run/);
      assert.equal(rootfs.has(first.id), false);
      assert.equal(rootfs.size, 2);
    });

    it("passes root.tar's sha256 the upload recorded into each reload target (none: not passed)", async () => {
      const record = await insert();
      const p = plan(await reloadableStemcells(t.db));
      const instance = p.instanceGroups[0]!.instances[0]!;
      const ctx = { debug: { write: () => true } } as unknown as TaskContext;
      const before = reloadTarget(await reloadPreflight(t.db, p), instance, [], ctx);
      assert.equal(before.reload?.blobstoreId, 'blob-1');
      assert.equal(before.reload?.rootSha256, undefined, 'a blob stored before 018 has none');
      await new RootfsRootDigests(t.db).record(record.blobstoreId, 'd'.repeat(64));
      const after = reloadTarget(await reloadPreflight(t.db, p), instance, [], ctx);
      assert.equal(after.reload?.rootSha256, 'd'.repeat(64));
    });
  });
}
