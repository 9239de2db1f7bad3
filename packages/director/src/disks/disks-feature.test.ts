// The disks feature in process, against both databases: routes called directly, tasks run by the
// real TaskRunner, the updater's fake CPI and agents (call logs) and the real deployment store.
// Covers what leaves instances as orphans (delete-deployment, `orphan=true`), the list, delete,
// attach back onto a stopped instance, and BOSH's refusals (nothing changes on those).
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { OrphanDiskItem } from '@refit/protocol';
import { CallLog, FakeAgentClient, FakeCloud } from '@refit/testkit/updater-fakes/index.ts';
import type { RouteReply } from '../api/route.ts';
import { releasesMigration } from '../db/migrations/004-releases.ts';
import { stemcellsMigration } from '../db/migrations/002-stemcells.ts';
import { testBackends, type TestDatabase } from '../db/test-databases.ts';
import { DeploymentStore } from '../deployments/deployment-store.ts';
import { deploymentsFeature } from '../deployments/index.ts';
import { DirectorError } from '../errors.ts';
import type { InstancePlan, InstanceState } from '../planner/plan-types.ts';
import { finishedTask, routeCaller } from '../stemcells/route-calls.test-support.ts';
import { startFeatures, type FeatureHarness } from '../tasks/feature-harness.test-support.ts';
import { disksFeature } from './index.ts';

const instances: { id: string; index: number; state: InstanceState; vm: boolean }[] = [
  { id: 'uuid-0', index: 0, state: 'started', vm: true },
  { id: 'uuid-1', index: 1, state: 'stopped', vm: true },
  { id: 'uuid-2', index: 2, state: 'detached', vm: false },
];

async function seed(db: TestDatabase['db']): Promise<void> {
  const store = new DeploymentStore(db);
  await store.ensure('dep');
  const state = store.stateStore('dep');
  for (const i of instances) {
    const plan = {
      id: i.id,
      group: 'web',
      index: i.index,
      az: 'z1',
      desiredState: i.state,
      tags: {},
    } as unknown as InstancePlan;
    await store.createInstance('dep', plan);
    await store.setState(i.id, i.state);
    if (i.vm) {
      await state.vmCreated(i.id, {
        cid: `vm-${i.index}`,
        agentId: `agent-${i.index}`,
        stemcell: { name: 's', version: '1' },
        cloudProperties: {},
        env: {},
        networkSettings: {},
        createdAt: '2026-01-01T00:00:00Z',
      });
    }
    await state.diskCreated(i.id, {
      cid: `disk-${i.index}`,
      size: 1024 * (i.index + 1),
      cloudProperties: { i: i.index },
    });
  }
}

for (const backend of testBackends()) {
  describe(`disks feature on ${backend.name}`, { skip: backend.skip }, () => {
    let h: FeatureHarness;
    let log: CallLog;
    let cloud: FakeCloud;
    let agents: FakeAgentClient;

    beforeEach(async () => {
      log = new CallLog();
      cloud = new FakeCloud(log);
      agents = new FakeAgentClient(log);
      const extra = { agents: () => agents };
      const disks = disksFeature(extra);
      h = await startFeatures(backend, {
        name: 'disks-feature',
        migrations: [stemcellsMigration, releasesMigration],
        features: [deploymentsFeature(extra), disks],
        routesOf: disks,
        cloud,
      });
      await seed(h.database.db);
    });
    afterEach(() => h.stop());

    const call = (...args: Parameters<ReturnType<typeof routeCaller>>) => routeCaller(h.routes)(...args);
    const task = (reply: RouteReply) => finishedTask(h.runner, reply);
    const listed = async () => {
      const reply = await call('GET', '/disks?orphaned=true');
      return reply.kind === 'json' ? (reply.body as OrphanDiskItem[]) : [];
    };
    const attachedCids = async () =>
      (await new DeploymentStore(h.database.db).instances('dep')).map((i) => `${i.id}:${i.disk?.cid ?? '-'}`);
    const diskEvents = async () =>
      (
        await h.database.db.query<{ action: string; object_name: string; instance: string }>(
          "SELECT action, object_name, instance FROM events WHERE object_type = 'disk' ORDER BY id",
        )
      ).map((e) => `${e.action} ${e.object_name} ${e.instance}`);
    const code = async (promise: Promise<unknown>) => {
      try {
        await promise;
      } catch (error) {
        assert.ok(error instanceof DirectorError, String(error));
        return error.code;
      }
      return assert.fail('expected a director error');
    };

    it('delete-deployment detaches and orphans every disk; delete-disk deletes one on the IaaS', async () => {
      const id = await h.runner.enqueue({
        type: 'delete_deployment',
        description: 'delete deployment dep',
        user: 'admin',
        deployment: 'dep',
        params: { deployment: 'dep' },
      });
      const done = await task({ kind: 'task', taskId: id });
      assert.equal(done.state, 'done', done.result ?? '');
      assert.equal(log.matching('cpi:delete_disk').length, 0, 'no disk deleted');
      assert.deepEqual(
        log.entries.filter((e) => /detach_disk|unmount_disk|remove_persistent_disk/.test(e)).sort(),
        [
          'agent:agent-0:remove_persistent_disk',
          'agent:agent-0:unmount_disk',
          'agent:agent-1:remove_persistent_disk',
          'agent:agent-1:unmount_disk',
          'cpi:detach_disk:vm-0',
          'cpi:detach_disk:vm-1',
        ],
      );
      const orphans = (await listed()).sort((a, b) => (a.disk_cid < b.disk_cid ? -1 : 1));
      assert.deepEqual(
        orphans.map((d) => ({
          ...d,
          orphaned_at: /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/.test(d.orphaned_at),
        })),
        instances.map((i) => ({
          disk_cid: `disk-${i.index}`,
          size: 1024 * (i.index + 1),
          az: 'z1',
          deployment_name: 'dep',
          instance_name: `web/${i.id}`,
          cloud_properties: { i: i.index },
          orphaned_at: true,
        })),
      );
      assert.equal(orphans.length, 3);
      assert.ok((await diskEvents()).includes('delete disk-0 web/uuid-0'));
      assert.equal(await new DeploymentStore(h.database.db).get('dep'), null);

      const deleted = await task(await call('DELETE', '/disks/disk-0'));
      assert.equal(deleted.state, 'done');
      assert.equal(deleted.description, 'delete orphan disks');
      assert.equal(deleted.result, 'orphaned disk(s) disk-0 deleted');
      assert.deepEqual(log.matching('cpi:delete_disk'), ['cpi:delete_disk:disk-0']);
      assert.deepEqual((await listed()).map((d) => d.disk_cid).sort(), ['disk-1', 'disk-2']);
    });

    it("refuses to delete an instance's disk (BOSH's 520000) and changes nothing", async () => {
      assert.equal(await code(call('DELETE', '/disks/disk-0')), 520000);
      assert.deepEqual(await listed(), []);
      assert.deepEqual(await attachedCids(), ['uuid-0:disk-0', 'uuid-1:disk-1', 'uuid-2:disk-2']);
      assert.equal(log.entries.length, 0);
    });

    it('delete-disk of an unknown cid succeeds as BOSH does, calling nothing', async () => {
      const done = await task(await call('DELETE', '/disks/nope'));
      assert.equal(done.state, 'done');
      assert.equal(done.result, 'orphaned disk(s) nope deleted');
      assert.equal(log.entries.length, 0);
    });

    it('orphan=true detaches the disk from a stopped instance (BOSH order) and orphans it', async () => {
      const done = await task(await call('DELETE', '/disks/disk-1?orphan=true'));
      assert.equal(done.state, 'done', done.result ?? '');
      assert.equal(done.description, 'orphan disk');
      assert.equal(done.result, 'disk disk-1 orphaned');
      assert.deepEqual(log.entries, [
        'agent:agent-1:unmount_disk',
        'cpi:detach_disk:vm-1',
        'agent:agent-1:remove_persistent_disk',
      ]);
      assert.deepEqual(
        (await listed()).map((d) => [d.disk_cid, d.instance_name]),
        [['disk-1', 'web/uuid-1']],
      );
      assert.deepEqual(await attachedCids(), ['uuid-0:disk-0', 'uuid-1:-', 'uuid-2:disk-2']);
      assert.deepEqual(await diskEvents(), ['detach disk-1 web/uuid-1', 'delete disk-1 web/uuid-1']);
      const again = await task(await call('DELETE', '/disks/disk-1?orphan=true'));
      assert.equal(again.state, 'done', 'an orphan (or unknown cid) is only logged');
    });

    it("attach-disk puts an orphan back onto a stopped instance, orphaning the instance's disk", async () => {
      await task(await call('DELETE', '/disks/disk-2?orphan=true')); // detached: no VM, no calls
      assert.equal(log.entries.length, 0);
      const done = await task(
        await call('PUT', '/disks/disk-2/attachments?deployment=dep&job=web&instance_id=uuid-1'),
      );
      assert.equal(done.state, 'done', done.result ?? '');
      assert.equal(done.description, "attach disk 'disk-2' to 'web/uuid-1'");
      assert.equal(done.result, "attached disk 'disk-2' to 'web/uuid-1' in deployment 'dep'");
      assert.deepEqual(log.entries, [
        'agent:agent-1:unmount_disk',
        'cpi:detach_disk:vm-1',
        'agent:agent-1:remove_persistent_disk',
        'cpi:attach_disk:vm-1',
        'agent:agent-1:add_persistent_disk',
        'cpi:set_disk_metadata:disk-2',
        'agent:agent-1:mount_disk',
      ]);
      assert.deepEqual(
        cloud.calls
          .filter((c) => c.method === 'attach_disk' || c.method === 'detach_disk')
          .map((c) => c.args),
        [
          ['vm-1', 'disk-1'],
          ['vm-1', 'disk-2'],
        ],
      );
      const web1 = (await new DeploymentStore(h.database.db).instances('dep')).find((i) => i.id === 'uuid-1');
      assert.deepEqual(
        web1?.disk,
        { cid: 'disk-2', size: 3072, cloudProperties: { i: 2 } },
        'its own record',
      );
      assert.deepEqual(
        (await listed()).map((d) => [d.disk_cid, d.instance_name]),
        [['disk-1', 'web/uuid-1']],
      );
    });

    it('attach-disk records an unmanaged disk on a detached instance, with the JSON disk properties', async () => {
      await task(await call('DELETE', '/disks/disk-2?orphan=true'));
      const props = encodeURIComponent(JSON.stringify({ size: 2048, cloud_properties: { t: 'x' } }));
      const done = await task(
        await call(
          'PUT',
          `/disks/vol-9/attachments?deployment=dep&job=web&instance_id=2&disk_properties=${props}`,
        ),
      );
      assert.equal(done.state, 'done', done.result ?? '');
      assert.equal(log.entries.length, 0, 'no VM: records only');
      const web2 = (await new DeploymentStore(h.database.db).instances('dep')).find((i) => i.id === 'uuid-2');
      assert.deepEqual(web2?.disk, { cid: 'vol-9', size: 2048, cloudProperties: { t: 'x' } });
    });

    it("attach-disk refuses BOSH's way and changes nothing", async () => {
      await task(await call('DELETE', '/disks/disk-2?orphan=true'));
      const before = { orphans: await listed(), attached: await attachedCids(), calls: log.entries.length };
      assert.equal(
        await code(call('PUT', '/disks/disk-2/attachments?deployment=nope&job=web&instance_id=uuid-1')),
        70000,
      );
      const running = await task(
        await call('PUT', '/disks/disk-2/attachments?deployment=dep&job=web&instance_id=uuid-0'),
      );
      assert.equal(running.state, 'error');
      assert.equal(
        running.result,
        "Instance 'web/uuid-0' in deployment 'dep' must be in 'bosh stopped' state",
      );
      const unknown = await task(
        await call('PUT', '/disks/disk-2/attachments?deployment=dep&job=db&instance_id=uuid-1'),
      );
      assert.equal(unknown.state, 'error');
      assert.equal(unknown.result, "Instance 'db/uuid-1' in deployment 'dep' was not found");
      assert.deepEqual(
        { orphans: await listed(), attached: await attachedCids(), calls: log.entries.length },
        before,
      );
    });
  });
}
