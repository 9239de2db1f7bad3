// The updater's persistent disk migration (disk-steps.ts migrateDiskStep) with the testkit fakes.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CurrentInstance } from '../planner/plan-types.ts';
import { manifestValue, type ManifestInput } from '../planner/planner-fixtures.test-support.ts';
import { harness, replan, run } from './updater-harness.test-support.ts';

const bumpStemcell = {
  mutate: (i: CurrentInstance): CurrentInstance => ({
    ...i,
    vm: i.vm && { ...i.vm, stemcell: { ...i.vm.stemcell, version: '1.1' } },
  }),
};

function bigGroup(instances: number, extra: Record<string, unknown> = {}): ManifestInput {
  const m = manifestValue();
  return { ...m, instance_groups: m.instance_groups.map((g) => ({ ...g, instances, ...extra })) };
}
describe('updateDeployment: persistent disk migration', () => {
  const resized = bigGroup(1, { persistent_disk: 2048 });
  const between = (h: ReturnType<typeof harness>, id: string) =>
    h.log.entries.slice(
      h.log.entries.indexOf(`store:updateStarted:${id}`) + 1,
      h.log.entries.lastIndexOf(`store:updateCompleted:${id}`),
    );

  it('creates and attaches the new disk, migrate_disk, switches the record (the old disk orphaned), then detaches the old one, never deleted', async () => {
    const h = harness();
    const plan = replan(bigGroup(1), resized);
    const instance = plan.instanceGroups[0]!.instances[0]!;
    assert.equal(instance.action, 'update-in-place');
    await run(h, plan);
    assert.deepEqual(between(h, 'id-0'), [
      'agent:agent-id-0:prepare',
      'agent:agent-id-0:run_script:pre-stop',
      'agent:agent-id-0:drain:shutdown',
      'agent:agent-id-0:stop',
      'agent:agent-id-0:run_script:post-stop',
      'cpi:create_disk',
      'store:inactiveDiskCreated:id-0:disk-1',
      'cpi:attach_disk:vm-id-0',
      'agent:agent-id-0:add_persistent_disk',
      'cpi:set_disk_metadata:disk-1',
      'agent:agent-id-0:mount_disk',
      'agent:agent-id-0:migrate_disk',
      'store:diskReplaced:id-0:disk-id-0:disk-1',
      'agent:agent-id-0:unmount_disk',
      'cpi:detach_disk:vm-id-0',
      'agent:agent-id-0:remove_persistent_disk',
      'agent:agent-id-0:apply',
      'agent:agent-id-0:run_script:pre-start',
      'agent:agent-id-0:start',
      'agent:agent-id-0:get_state',
      'agent:agent-id-0:run_script:post-start',
    ]);
    const call = (method: string) => h.cloud.calls.find((c) => c.method === method)?.args;
    assert.deepEqual(call('create_disk'), [2048, {}, 'vm-id-0'], 'placed with the VM');
    // BOSH's agent calls: mount_disk(new) (the Go agent mounts it on store_migration_target,
    // the old disk being on the store), then migrate_disk(old, new), then the old one unmounted.
    assert.deepEqual(
      h.agents.calls.filter((c) => /_disk$/.test(c.method)).map((c) => [c.method, ...c.args]),
      [
        ['add_persistent_disk', 'disk-1', '/dev/fake/disk-1'],
        ['mount_disk', 'disk-1'],
        ['migrate_disk', 'disk-id-0', 'disk-1'],
        ['unmount_disk', 'disk-id-0'],
        ['remove_persistent_disk', 'disk-id-0'],
      ],
    );
    assert.deepEqual(
      h.log.matching('store:disk'),
      ['store:diskReplaced:id-0:disk-id-0:disk-1'],
      'one switch',
    );
    assert.deepEqual(
      h.cloud.calls.filter((c) => c.method === 'detach_disk').map((c) => c.args),
      [['vm-id-0', 'disk-id-0']],
    );
    const row = h.store.instances.get('id-0');
    assert.deepEqual(row?.disk, { cid: 'disk-1', size: 2048, cloudProperties: {} });
    assert.equal(h.store.inactive.size, 0, 'the switch made the inactive disk active');
    assert.equal(row?.completed, true);
    assert.deepEqual([...h.store.orphans.keys()], ['disk-id-0'], 'the old disk is orphaned, as in BOSH');
    assert.equal(h.log.matching('cpi:delete_disk').length, 0);
    assert.deepEqual(
      h.recorded.filter((e) => e.objectType === 'disk').map((e) => `${e.action} ${e.objectName}`),
      ['create disk-1', 'attach disk-1', 'detach disk-id-0', 'delete disk-id-0'],
    );
  });

  it('a failed migrate_disk removes the new disk and keeps the old one; the next deploy migrates', async () => {
    const h = harness();
    h.agents.failCall = (_agent, method) => method === 'migrate_disk';
    const plan = replan(bigGroup(1), resized);
    await assert.rejects(run(h, plan), /fake migrate_disk failure/);
    assert.deepEqual(
      h.log.matching('store:'),
      ['store:updateStarted:id-0', 'store:inactiveDiskCreated:id-0:disk-1', 'store:diskDeleted:id-0:disk-1'],
      'the new disk was recorded inactive, then its row went with it; the old disk is still the one',
    );
    assert.equal(h.store.inactive.size, 0);
    assert.equal(h.store.instances.get('id-0')?.disk, null, 'never switched');
    assert.deepEqual(
      h.cloud.calls.filter((c) => /_disk$/.test(c.method)).map((c) => [c.method, ...c.args]),
      [
        ['create_disk', 2048, {}, 'vm-id-0'],
        ['attach_disk', 'vm-id-0', 'disk-1'],
        ['detach_disk', 'vm-id-0', 'disk-1'],
        ['delete_disk', 'disk-1'],
      ],
      'only the new disk is detached and deleted',
    );
    assert.deepEqual(
      h.agents.calls.filter((c) => /_disk$/.test(c.method)).map((c) => [c.method, ...c.args]),
      [
        ['add_persistent_disk', 'disk-1', '/dev/fake/disk-1'],
        ['mount_disk', 'disk-1'],
        ['migrate_disk', 'disk-id-0', 'disk-1'],
        ['unmount_disk', 'disk-1'],
        ['remove_persistent_disk', 'disk-1'],
      ],
      'the new disk is unmounted from the migration target before it is detached',
    );
    assert.equal(h.store.instances.get('id-0')?.completed, false, 'dirty: redone by the next deploy');

    h.agents.failCall = null;
    await run(h, plan);
    assert.deepEqual(h.store.instances.get('id-0')?.disk?.size, 2048);
    assert.ok(h.log.entries.includes('store:diskReplaced:id-0:disk-id-0:disk-2'));
    assert.deepEqual([...h.store.orphans.keys()], ['disk-id-0'], 'the old disk orphaned, not deleted');
    assert.ok(!h.log.entries.includes('cpi:delete_disk:disk-id-0'));
    assert.equal(h.store.instances.get('id-0')?.completed, true);
  });

  it('migrates after a recreate, onto the new VM', async () => {
    const h = harness();
    const plan = replan(bigGroup(1), resized, bumpStemcell);
    assert.equal(plan.instanceGroups[0]!.instances[0]!.action, 'recreate');
    await run(h, plan);
    const disks = h.log.entries.filter((e) => /^cpi:\w+_disk|migrate_disk|mount_disk/.test(e));
    assert.deepEqual(
      disks.map((e) => e.replace(/new-agent-\d+/, 'NEW')),
      [
        'agent:agent-id-0:unmount_disk',
        'cpi:detach_disk:vm-id-0',
        'cpi:attach_disk:vm-1',
        'cpi:set_disk_metadata:disk-id-0',
        'agent:NEW:mount_disk',
        'cpi:create_disk',
        'cpi:attach_disk:vm-1',
        'cpi:set_disk_metadata:disk-2',
        'agent:NEW:mount_disk',
        'agent:NEW:migrate_disk',
        'agent:NEW:unmount_disk',
        'cpi:detach_disk:vm-1',
      ],
      'the old disk detached and orphaned, never deleted',
    );
    assert.deepEqual([...h.store.orphans.keys()], ['disk-id-0']);
    assert.deepEqual(h.cloud.vms.get('vm-1')?.disks, new Set(['disk-2']));
  });

  it('deploy --recreate-persistent-disks: in place, as BOSH, the data migrated to a new disk of the same size', async () => {
    const h = harness();
    const same = bigGroup(1);
    const plan = replan(same, same, { planOptions: { recreatePersistentDisks: true } });
    assert.equal(plan.instanceGroups[0]!.instances[0]!.action, 'update-in-place');
    await run(h, plan);
    assert.deepEqual(
      h.cloud.calls.filter((c) => c.method === 'create_disk').map((c) => c.args.slice(0, 2)),
      [[1024, {}]],
    );
    assert.equal(h.agents.calls.filter((c) => c.method === 'migrate_disk').length, 1);
    assert.deepEqual([...h.store.orphans.keys()], ['disk-id-0'], 'the old disk orphaned');
    assert.notEqual(h.store.instances.get('id-0')?.disk?.cid, 'disk-id-0');
  });

  it('persistent_disk removed: the disk is unmounted, detached, removed, then orphaned, never deleted', async () => {
    const h = harness();
    const plan = replan(bigGroup(1), bigGroup(1, { persistent_disk: 0 }));
    await run(h, plan);
    const order = [
      'agent:agent-id-0:unmount_disk',
      'cpi:detach_disk:vm-id-0',
      'agent:agent-id-0:remove_persistent_disk',
      'store:diskOrphaned:id-0:disk-id-0',
    ];
    assert.deepEqual(
      between(h, 'id-0').filter((e) => order.includes(e)),
      order,
    );
    assert.equal(h.log.matching('cpi:delete_disk').length, 0);
    assert.equal(h.store.instances.get('id-0')?.disk, null);
    assert.deepEqual(h.store.orphans.get('disk-id-0')?.instanceId, 'id-0');
    assert.deepEqual(
      h.recorded
        .filter((e) => e.objectType === 'disk')
        .map((e) => `${e.action} ${e.objectName} ${e.instance}`),
      ['detach disk-id-0 web/id-0', 'delete disk-id-0 web/id-0'],
    );
  });
});
