import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { testBackends, type TestDatabase } from '../db/test-databases.ts';
import type { StoredVm } from '../updater/updater-ports.ts';
import { DbIpReservationStore, ipReservationsMigration } from '../networking/index.ts';
import type { IpReservation } from '../planner/plan-types.ts';
import { deploymentsMigration } from './006-deployments.ts';
import { leftoverVmsMigration } from './014-leftover-vms.ts';
import { persistentDiskActiveMigration } from './017-persistent-disk-active.ts';
import { orphanDisksMigration } from '../disks/015-orphan-disks.ts';
import { DeploymentStore } from './deployment-store.ts';

const vm = (cid: string): StoredVm => ({
  cid,
  agentId: `agent-${cid}`,
  stemcell: { name: 's', version: '1' },
  cloudProperties: {},
  env: {},
  networkSettings: {},
  createdAt: '2026-01-01T00:00:00Z',
});

const instance = {
  id: 'i-1',
  group: 'web',
  index: 0,
  az: null,
  desiredState: 'started',
  tags: {},
} as unknown as Parameters<DeploymentStore['createInstance']>[1];

for (const backend of testBackends()) {
  describe(
    `deployment store: disk switch and leftover VMs on ${backend.name}`,
    { skip: backend.skip },
    () => {
      let database: TestDatabase;
      let store: DeploymentStore;
      before(async () => {
        database = await backend.create({
          migrations: [
            ipReservationsMigration,
            deploymentsMigration,
            leftoverVmsMigration,
            orphanDisksMigration,
            persistentDiskActiveMigration,
          ],
        });
        store = new DeploymentStore(database.db);
        await store.ensure('dep');
        await store.createInstance('dep', instance);
      });
      after(() => database.cleanup());

      it('diskReplaced switches the record and orphans the old disk in one transaction', async () => {
        const state = store.stateStore('dep');
        await state.diskCreated('i-1', { cid: 'disk-old', size: 64, cloudProperties: {} });
        await state.diskReplaced('i-1', 'disk-old', {
          cid: 'disk-new',
          size: 128,
          cloudProperties: { a: 1 },
        });
        const rows = await database.db.query(
          'SELECT cid, size FROM persistent_disks WHERE instance_id = $1',
          ['i-1'],
        );
        assert.deepEqual(rows, [{ cid: 'disk-new', size: 128 }]);
        const orphans = await database.db.query('SELECT disk_cid, instance_name FROM orphan_disks');
        assert.deepEqual(orphans, [{ disk_cid: 'disk-old', instance_name: 'web/i-1' }]);
        assert.deepEqual((await store.instances('dep'))[0]?.disk, {
          cid: 'disk-new',
          size: 128,
          cloudProperties: { a: 1 },
        });
        // A failing switch (the new CID recorded for another instance) rolls the orphaning back.
        await store
          .stateStore('dep')
          .diskCreated('i-other', { cid: 'disk-elsewhere', size: 1, cloudProperties: {} });
        await assert.rejects(
          state.diskReplaced('i-1', 'disk-new', { cid: 'disk-elsewhere', size: 2, cloudProperties: {} }),
        );
        const after = await database.db.query('SELECT cid FROM persistent_disks ORDER BY cid');
        assert.deepEqual(
          after.map((r) => r.cid),
          ['disk-elsewhere', 'disk-new'],
        );
        const stillOrphans = await database.db.query('SELECT disk_cid FROM orphan_disks');
        assert.deepEqual(stillOrphans, [{ disk_cid: 'disk-old' }], 'the failed switch orphaned nothing');
        await database.db.execute("DELETE FROM persistent_disks WHERE cid = 'disk-elsewhere'");
      });

      it("a migration's new disk is recorded inactive: never the instance's disk until the switch flips the flags", async () => {
        const state = store.stateStore('dep');
        await state.inactiveDiskCreated('i-1', { cid: 'disk-next', size: 256, cloudProperties: { b: 2 } });
        assert.equal((await store.instances('dep'))[0]?.disk?.cid, 'disk-new', 'the active disk is read');
        assert.deepEqual(await state.inactiveDisks('i-1'), [
          { cid: 'disk-next', size: 256, cloudProperties: { b: 2 } },
        ]);
        assert.deepEqual(await store.inactiveDisks('dep'), [
          { instanceId: 'i-1', disk: { cid: 'disk-next', size: 256, cloudProperties: { b: 2 } } },
        ]);
        assert.equal(await store.activateDisk('i-1', 'disk-next'), false, 'the instance has an active disk');
        // Abandoned (a failed migration): the row goes with the disk.
        await state.diskDeleted('i-1', 'disk-next');
        assert.deepEqual(await state.inactiveDisks('i-1'), []);
        // Switched: the inactive row becomes active, the old disk orphaned, in one transaction.
        await state.inactiveDiskCreated('i-1', { cid: 'disk-next', size: 256, cloudProperties: { b: 2 } });
        await state.diskReplaced('i-1', 'disk-new', {
          cid: 'disk-next',
          size: 256,
          cloudProperties: { b: 2 },
        });
        assert.deepEqual(
          await database.db.query('SELECT cid, active FROM persistent_disks WHERE instance_id = $1', ['i-1']),
          [{ cid: 'disk-next', active: 1 }],
        );
        assert.deepEqual(
          (await database.db.query('SELECT disk_cid FROM orphan_disks ORDER BY disk_cid')).map(
            (r) => r.disk_cid,
          ),
          ['disk-new', 'disk-old'],
        );
        assert.deepEqual(await store.inactiveDisks('dep'), []);
        // cloud check's activate_disk: only onto an instance without an active disk.
        await state.inactiveDiskCreated('i-2', { cid: 'disk-lone', size: 8, cloudProperties: {} });
        assert.equal(
          (await store.instances('dep')).find((i) => i.id === 'i-2'),
          undefined,
        );
        assert.equal(await store.activateDisk('i-2', 'disk-lone'), true);
        assert.deepEqual(await state.inactiveDisks('i-2'), []);
        await database.db.execute("DELETE FROM persistent_disks WHERE cid = 'disk-lone'");
        // Back as the next test expects: disk-new the active disk of i-1.
        await database.db.execute("DELETE FROM orphan_disks WHERE disk_cid = 'disk-new'");
        await database.db.execute(
          "UPDATE persistent_disks SET cid = 'disk-new', size = 128 WHERE cid = 'disk-next'",
        );
      });

      it('diskOrphaned moves the row; instanceDeleted and delete orphan any disk still recorded', async () => {
        const state = store.stateStore('dep');
        await state.diskOrphaned('i-1', 'disk-new');
        assert.deepEqual(await database.db.query('SELECT cid FROM persistent_disks'), []);
        await state.diskCreated('i-1', { cid: 'disk-kept', size: 1, cloudProperties: {} });
        await store.createInstance('dep', { ...instance, id: 'i-2' });
        await state.diskCreated('i-2', { cid: 'disk-forced', size: 1, cloudProperties: {} });
        await state.instanceDeleted('i-1');
        await store.delete('dep');
        const orphans = await database.db.query('SELECT disk_cid FROM orphan_disks ORDER BY disk_cid');
        assert.deepEqual(
          orphans.map((r) => r.disk_cid),
          ['disk-forced', 'disk-kept', 'disk-new', 'disk-old'],
        );
        assert.deepEqual(await database.db.query('SELECT cid FROM persistent_disks'), []);
        await store.ensure('dep');
        await store.createInstance('dep', instance);
      });

      it('a swap records the new VM and the old one as a leftover at once; deleting it releases its addresses', async () => {
        const state = store.stateStore('dep');
        const reservation = (ip: string): IpReservation => ({
          deployment: 'dep',
          instanceId: 'i-1',
          network: 'default',
          ip,
          type: 'dynamic',
        });
        const ips = new DbIpReservationStore(database.db);
        await ips.apply({ add: [reservation('10.0.0.5'), reservation('10.0.0.6')], release: [] });
        await state.vmCreated('i-1', vm('vm-old'));
        await state.vmLeftover('i-1', vm('vm-new'));
        assert.equal((await store.instances('dep'))[0]?.vm?.cid, 'vm-old', 'before the swap: the old VM');
        assert.deepEqual(await state.leftoverVms(), [
          { cid: 'vm-new', agentId: 'agent-vm-new', instanceId: 'i-1', ips: [] },
        ]);
        await state.vmSwapped('i-1', vm('vm-old'), vm('vm-new'), [reservation('10.0.0.5')]);
        assert.equal((await store.instances('dep'))[0]?.vm?.cid, 'vm-new');
        // What a director restarted here would find.
        const restarted = new DeploymentStore(database.db).stateStore('dep');
        assert.deepEqual(await restarted.leftoverVms(), [
          { cid: 'vm-old', agentId: 'agent-vm-old', instanceId: 'i-1', ips: [reservation('10.0.0.5')] },
        ]);
        assert.deepEqual(await new DeploymentStore(database.db).stateStore('other').leftoverVms(), []);
        await restarted.leftoverVmDeleted('vm-old');
        assert.deepEqual(await restarted.leftoverVms(), []);
        assert.deepEqual(
          (await ips.forDeployment('dep')).map((r) => r.ip),
          ['10.0.0.6'],
          "the old VM's address went with it",
        );
      });

      it('a leftover that is an instance VM is dropped, never offered for deletion', async () => {
        const state = store.stateStore('dep');
        await state.vmLeftover('i-1', vm('vm-new'));
        assert.deepEqual(await state.leftoverVms(), []);
        assert.equal((await store.instances('dep'))[0]?.vm?.cid, 'vm-new');
      });
    },
  );
}
