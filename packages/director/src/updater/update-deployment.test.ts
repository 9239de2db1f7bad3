import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applyRenderedHashes } from '../planner/apply-rendered-hashes.ts';
import type { CurrentInstance } from '../planner/plan-types.ts';
import { manifestValue, type ManifestInput } from '../planner/planner-fixtures.test-support.ts';
import { harness, initialPlan, maxConcurrent, replan, run } from './updater-harness.test-support.ts';

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

describe('updateDeployment', () => {
  it('creates a new deployment: VMs first, then disks, apply and start per instance', async () => {
    const h = harness();
    const plan = initialPlan();
    await run(h, plan);
    const stages = [...new Set(h.eventLines.map((l) => l.stage))];
    assert.deepEqual(stages, ['Creating missing vms', 'Downloading packages', 'Updating instance']);
    assert.equal(h.cloud.vms.size, 3);
    assert.equal(h.cloud.disks.size, 3);
    for (const [cid, vm] of h.cloud.vms) assert.equal(vm.disks.size, 1, `${cid} has its disk attached`);
    for (const row of h.store.instances.values()) {
      assert.equal(row.completed, true);
      assert.equal(row.applied?.state, 'started');
      assert.notEqual(row.vm, null);
    }
    const canaryTask = h.eventLines.find((l) => l.stage === 'Updating instance' && l.state === 'started');
    assert.match(String(canaryTask?.task), /^web\/id-\d \(0\) \(canary\)$/);
  });

  it('updates in place in BOSH order: prepare, pre-stop, drain update, stop, post-stop, apply, pre-start, start, watch, post-start', async () => {
    const h = harness();
    const before = initialPlan();
    const plan = applyRenderedHashes(
      replan(manifestValue(), manifestValue()),
      new Map(
        before.instanceGroups[0]!.instances.map((i) => [
          i.id,
          { packages: 'p1', job: 'j1', configuration: 'c2' },
        ]),
      ),
    );
    assert.ok(plan.instanceGroups[0]!.instances.every((i) => i.action === 'update-in-place'));
    await run(h, plan);
    const agent = 'agent-id-0';
    assert.deepEqual(h.log.matching(`agent:${agent}:`), [
      `agent:${agent}:prepare`,
      `agent:${agent}:run_script:pre-stop`,
      `agent:${agent}:drain:update`,
      `agent:${agent}:stop`,
      `agent:${agent}:run_script:post-stop`,
      `agent:${agent}:apply`,
      `agent:${agent}:run_script:pre-start`,
      `agent:${agent}:start`,
      `agent:${agent}:get_state`,
      `agent:${agent}:run_script:post-start`,
    ]);
    assert.equal(h.log.matching('cpi:').length, 0, 'no CPI call for an in-place update');
  });

  it('recreates for a stemcell change in BOSH order, keeping the persistent disk', async () => {
    const h = harness();
    const plan = replan(manifestValue(), manifestValue(), bumpStemcell);
    assert.ok(plan.instanceGroups[0]!.instances.every((i) => i.action === 'recreate'));
    await run(h, plan);
    const old = 'agent-id-0';
    const i0 = h.log.entries.indexOf(`store:updateStarted:id-0`);
    const end = h.log.entries.indexOf(`store:updateCompleted:id-0`);
    const seq = h.log.entries
      .slice(i0 + 1, end)
      .map((e) => e.replace(old, 'OLD').replace(/new-agent-\d+/, 'NEW'));
    assert.deepEqual(seq, [
      'agent:OLD:run_script:pre-stop',
      'agent:OLD:drain:shutdown',
      'agent:OLD:stop',
      'agent:OLD:run_script:post-stop',
      'agent:OLD:unmount_disk',
      'cpi:detach_disk:vm-id-0',
      'agent:OLD:remove_persistent_disk',
      'cpi:delete_vm:vm-id-0',
      'cpi:create_vm',
      'cpi:set_vm_metadata:vm-1',
      'agent:NEW:ping:vm-1',
      'cpi:attach_disk:vm-1',
      'agent:NEW:add_persistent_disk',
      'cpi:set_disk_metadata:disk-id-0',
      'agent:NEW:mount_disk',
      'agent:NEW:update_settings',
      'agent:NEW:prepare',
      'agent:NEW:apply',
      'agent:NEW:run_script:pre-start',
      'agent:NEW:start',
      'agent:NEW:get_state',
      'agent:NEW:run_script:post-start',
    ]);
    const created = h.cloud.calls.find((c) => c.method === 'create_vm');
    assert.deepEqual(created?.args[4], ['disk-id-0'], 'the VM is created knowing its disk');
    assert.equal(h.log.matching('cpi:create_disk').length, 0, 'no new disk');
  });

  it('a failing canary touches no other instance', async () => {
    const h = harness();
    h.agents.failingJobs('new-agent-1');
    const plan = replan(manifestValue(), manifestValue(), bumpStemcell);
    const canary = plan.instanceGroups[0]!.instances.find((i) => i.canary)!;
    await assert.rejects(run(h, plan), /is not running after update\. Review logs for failed jobs: server/);
    const others = plan.instanceGroups[0]!.instances.filter((i) => !i.canary);
    for (const other of others) {
      assert.equal(h.log.matching(`store:updateStarted:${other.id}`).length, 0);
      assert.equal(h.log.matching(`agent:agent-${other.id}:`).length, 0);
      assert.equal(h.log.matching(`cpi:delete_vm:vm-${other.id}`).length, 0);
    }
    assert.equal(h.log.matching('cpi:create_vm').length, 1);
    assert.equal(h.store.instances.get(canary.id)?.completed, false, 'the canary stays dirty');
    const failed = h.eventLines.find((l) => l.state === 'failed');
    assert.equal(failed?.task, `web/${canary.id} (${canary.index}) (canary)`);
  });

  it('keeps max_in_flight per AZ and finishes one AZ before the next', async () => {
    const h = harness();
    const plan = replan(
      bigGroup(8),
      bigGroup(8, { update: { max_in_flight: 2, canaries: 1 } }),
      bumpStemcell,
    );
    const group = plan.instanceGroups[0]!;
    await run(h, plan);
    const z1 = new Set(group.instances.filter((i) => i.az === 'z1').map((i) => i.id));
    const z2 = new Set(group.instances.filter((i) => i.az === 'z2').map((i) => i.id));
    assert.equal(maxConcurrent(h.log, z1), 2);
    assert.equal(maxConcurrent(h.log), 2, 'AZs are not updated together');
    const lastZ1 = Math.max(...[...z1].map((id) => h.log.entries.indexOf(`store:updateCompleted:${id}`)));
    const firstZ2 = Math.min(...[...z2].map((id) => h.log.entries.indexOf(`store:updateStarted:${id}`)));
    assert.ok(lastZ1 < firstZ2, 'z2 starts after z1 is done');
  });

  it('runs serial groups one after another and serial: false groups together', async () => {
    for (const serial of [true, false]) {
      const h = harness();
      const m = manifestValue();
      const web = m.instance_groups[0]!;
      const manifest: ManifestInput = {
        ...m,
        update: { ...m.update, serial },
        instance_groups: [web, { ...web, name: 'worker', persistent_disk: 0 }],
      };
      const plan = replan(manifest, manifest, bumpStemcell);
      await run(h, plan);
      const ids = (g: number) => new Set(plan.instanceGroups[g]!.instances.map((i) => i.id));
      const webDone = Math.max(
        ...[...ids(0)].map((id) => h.log.entries.indexOf(`store:updateCompleted:${id}`)),
      );
      const workerStart = Math.min(
        ...[...ids(1)].map((id) => h.log.entries.indexOf(`store:updateStarted:${id}`)),
      );
      if (serial) assert.ok(webDone < workerStart, 'serial: worker waits for web');
      else assert.ok(workerStart < webDone, 'parallel: worker starts while web is updating');
    }
  });

  it('deletes unneeded instances first: stop with drain shutdown, detach, delete VM and disk', async () => {
    const h = harness();
    const plan = replan(manifestValue(), bigGroup(2));
    const gone = plan.instanceGroups[0]!.obsolete;
    assert.equal(gone.length, 1);
    await run(h, plan);
    const id = gone[0]!.id;
    assert.deepEqual(h.log.matching(`agent:agent-${id}:`), [
      `agent:agent-${id}:run_script:pre-stop`,
      `agent:agent-${id}:drain:shutdown`,
      `agent:agent-${id}:stop`,
      `agent:agent-${id}:run_script:post-stop`,
      `agent:agent-${id}:unmount_disk`,
      `agent:agent-${id}:remove_persistent_disk`,
    ]);
    assert.ok(h.log.entries.includes(`cpi:delete_vm:vm-${id}`));
    assert.ok(h.log.entries.includes(`cpi:delete_disk:disk-${id}`));
    assert.ok(h.log.entries.includes(`store:instanceDeleted:${id}`));
    assert.equal(h.eventLines[0]?.stage, 'Deleting unneeded instances');
  });

  it('stop --hard (detached) deletes the VM and keeps the disk; start brings a VM back with it', async () => {
    const h = harness();
    const plan = replan(manifestValue(), manifestValue(), {
      planOptions: { instanceStateOverrides: [{ group: 'web', instance: '0', state: 'detached' }] },
    });
    const target = plan.instanceGroups[0]!.instances.find((i) => i.index === 0)!;
    assert.equal(target.action, 'detach');
    await run(h, plan);
    assert.ok(h.log.entries.includes(`cpi:delete_vm:vm-${target.id}`));
    assert.equal(h.log.matching('cpi:delete_disk').length, 0);
    assert.equal(h.store.instances.get(target.id)?.applied?.state, 'detached');
  });

  it('start after stop --hard creates a VM with the kept disk attached, no new disk', async () => {
    const h = harness();
    const plan = replan(manifestValue(), manifestValue(), {
      mutate: (i) => (i.index === 0 ? { ...i, vm: null, state: 'detached' } : i),
      planOptions: { instanceStateOverrides: [{ group: 'web', instance: '0', state: 'started' }] },
    });
    const target = plan.instanceGroups[0]!.instances.find((i) => i.index === 0)!;
    assert.equal(target.action, 'create');
    await run(h, plan);
    const created = h.cloud.calls.filter((c) => c.method === 'create_vm');
    assert.equal(created.length, 1);
    assert.deepEqual(created[0]?.args[4], [`disk-${target.id}`]);
    assert.ok(h.log.entries.includes(`cpi:attach_disk:vm-1`));
    assert.equal(h.log.matching('cpi:create_disk').length, 0);
    assert.equal(h.store.instances.get(target.id)?.applied?.state, 'started');
  });

  it('waits the seconds a drain answers, and polls a dynamic drain', async () => {
    const h = harness();
    h.agents.drainSeconds = -7;
    const plan = applyRenderedHashes(
      replan(bigGroup(1), bigGroup(1)),
      new Map([['id-0', { packages: 'p1', job: 'j1', configuration: 'c2' }]]),
    );
    await run(h, plan);
    assert.ok(h.log.entries.includes('agent:agent-id-0:drain:status'));
    assert.equal(h.clock.sleeps[0], 7000);
  });
});

describe('updateDeployment: persistent disk migration', () => {
  const resized = bigGroup(1, { persistent_disk: 2048 });
  const between = (h: ReturnType<typeof harness>, id: string) =>
    h.log.entries.slice(
      h.log.entries.indexOf(`store:updateStarted:${id}`) + 1,
      h.log.entries.lastIndexOf(`store:updateCompleted:${id}`),
    );

  it('creates and attaches the new disk, migrate_disk, switches the record, then detaches and deletes the old one', async () => {
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
      'cpi:attach_disk:vm-id-0',
      'agent:agent-id-0:add_persistent_disk',
      'cpi:set_disk_metadata:disk-1',
      'agent:agent-id-0:mount_disk',
      'agent:agent-id-0:migrate_disk',
      'store:diskReplaced:id-0:disk-id-0:disk-1',
      'agent:agent-id-0:unmount_disk',
      'cpi:detach_disk:vm-id-0',
      'agent:agent-id-0:remove_persistent_disk',
      'cpi:delete_disk:disk-id-0',
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
    assert.equal(row?.completed, true);
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
    assert.deepEqual(h.log.matching('store:disk'), [], 'the record still names the old disk');
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
    assert.ok(h.log.entries.includes('cpi:delete_disk:disk-id-0'));
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
        'cpi:delete_disk:disk-id-0',
      ],
    );
    assert.deepEqual(h.cloud.vms.get('vm-1')?.disks, new Set(['disk-2']));
  });
});

describe('updateDeployment: vm_strategy create-swap-delete', () => {
  const swapping = (extra: Record<string, unknown> = {}) =>
    bigGroup(1, { update: { vm_strategy: 'create-swap-delete' }, ...extra });
  const sequence = (h: ReturnType<typeof harness>) =>
    h.log.entries
      .slice(
        h.log.entries.indexOf('store:updateStarted:id-0') + 1,
        h.log.entries.lastIndexOf('store:updateCompleted:id-0'),
      )
      .map((e) => e.replace('agent-id-0', 'OLD').replace(/new-agent-\d+/, 'NEW'));

  it('creates and prepares the new VM before stopping the old one, moves the disk, deletes the old VM last', async () => {
    const h = harness();
    const plan = replan(swapping(), swapping(), bumpStemcell);
    assert.equal(plan.instanceGroups[0]!.vmStrategy, 'create-swap-delete');
    const planned = plan.instanceGroups[0]!.instances[0]!;
    assert.notEqual(planned.networkSettings.default?.ip, planned.existing?.vm?.networkSettings.default?.ip);
    assert.equal(planned.releasedAfterSwap?.length, 1);
    await run(h, plan);
    assert.deepEqual(sequence(h), [
      'cpi:create_vm',
      'store:vmLeftover:id-0:vm-1',
      'cpi:set_vm_metadata:vm-1',
      'agent:NEW:ping:vm-1',
      'agent:NEW:prepare',
      'agent:OLD:run_script:pre-stop',
      'agent:OLD:drain:shutdown',
      'agent:OLD:stop',
      'agent:OLD:run_script:post-stop',
      'agent:OLD:unmount_disk',
      'cpi:detach_disk:vm-id-0',
      'agent:OLD:remove_persistent_disk',
      'store:vmSwapped:id-0:vm-id-0:vm-1',
      'cpi:attach_disk:vm-1',
      'agent:NEW:add_persistent_disk',
      'cpi:set_disk_metadata:disk-id-0',
      'agent:NEW:mount_disk',
      'agent:NEW:update_settings',
      'agent:NEW:apply',
      'agent:NEW:run_script:pre-start',
      'agent:NEW:start',
      'agent:NEW:get_state',
      'agent:NEW:run_script:post-start',
      'cpi:delete_vm:vm-id-0',
      'store:leftoverVmDeleted:vm-id-0',
    ]);
    assert.deepEqual(h.cloud.calls.find((c) => c.method === 'create_vm')?.args[4], []);
    assert.equal(h.store.leftovers.size, 0);
    assert.deepEqual(h.store.releasedIps, planned.releasedAfterSwap, "the old VM's address goes with it");
    const row = h.store.instances.get('id-0');
    assert.equal(row?.vm?.cid, 'vm-1');
    assert.equal(row?.completed, true);
    assert.deepEqual([...h.cloud.vms.keys()], ['vm-1']);
    assert.deepEqual(h.cloud.vms.get('vm-1')?.disks, new Set(['disk-id-0']));
  });

  it('a failure before the swap deletes the new VM and keeps the instance on its old VM and disk', async () => {
    for (const failing of ['prepare', 'stop']) {
      const h = harness();
      h.agents.failCall = (agent, method) =>
        method === failing && agent === (failing === 'stop' ? 'agent-id-0' : 'new-agent-1');
      const plan = replan(swapping(), swapping(), bumpStemcell);
      await assert.rejects(run(h, plan), new RegExp(`fake ${failing} failure`));
      assert.deepEqual(h.log.matching('cpi:delete_vm'), ['cpi:delete_vm:vm-1'], failing);
      assert.deepEqual(h.log.matching('cpi:detach_disk'), [], failing);
      assert.deepEqual(h.log.matching('store:vmSwapped'), [], `${failing}: the record keeps the old VM`);
      assert.deepEqual(h.log.matching('store:leftoverVmDeleted'), ['store:leftoverVmDeleted:vm-1']);
      assert.equal(h.store.leftovers.size, 0);
      assert.equal(h.store.instances.get('id-0')?.completed, false);
    }
  });

  it('after the swap a failing start still deletes the old VM; the instance stays on the new one, dirty', async () => {
    const h = harness();
    h.agents.failingJobs('new-agent-1');
    const plan = replan(swapping(), swapping(), bumpStemcell);
    await assert.rejects(run(h, plan), /is not running after update/);
    assert.deepEqual(h.log.matching('cpi:delete_vm'), ['cpi:delete_vm:vm-id-0']);
    assert.equal(h.store.instances.get('id-0')?.vm?.cid, 'vm-1');
    assert.equal(h.store.instances.get('id-0')?.completed, false);
  });

  it('a director dying right after the swap leaves the old VM recorded; the next deploy deletes it first', async () => {
    const h = harness();
    h.store.crashAt = 'vmSwapped';
    const plan = replan(swapping(), swapping(), bumpStemcell);
    await assert.rejects(run(h, plan), /director died after vmSwapped/);
    assert.deepEqual(h.store.releasedIps, [], 'the old address is still held');
    assert.equal(h.store.instances.get('id-0')?.vm?.cid, 'vm-1', 'the record names the new VM only');
    assert.deepEqual(h.log.matching('cpi:delete_vm'), [], 'the old VM was not deleted');
    assert.deepEqual([...h.store.leftovers.keys()], ['vm-id-0']);

    // The next deploy (nothing else to change), with the same store as the restarted director's.
    h.log.entries.length = 0;
    h.eventLines.length = 0;
    await run(h, replan(swapping(), swapping()));
    assert.deepEqual(h.log.matching('cpi:'), ['cpi:delete_vm:vm-id-0']);
    assert.equal(h.store.instances.get('id-0')?.vm?.cid, 'vm-1');
    assert.equal(h.store.leftovers.size, 0);
    assert.deepEqual(
      h.eventLines.filter((l) => l.state === 'finished').map((l) => [l.stage, l.task]),
      [['Deleting leftover vms', 'vm-id-0']],
    );
    assert.ok(h.recorded.some((e) => e.action === 'delete' && e.objectName === 'vm-id-0'));
    assert.deepEqual(h.store.releasedIps, plan.instanceGroups[0]!.instances[0]!.releasedAfterSwap);
  });

  it('a new VM whose delete fails before the swap stays recorded and goes with the next deploy', async () => {
    const h = harness();
    h.agents.failCall = (agent, method) => agent === 'new-agent-1' && method === 'prepare';
    h.cloud.failWith = (method) => (method === 'delete_vm' ? new Error('IaaS unavailable') : undefined);
    await assert.rejects(run(h, replan(swapping(), swapping(), bumpStemcell)), /fake prepare failure/);
    assert.deepEqual([...h.store.leftovers.keys()], ['vm-1']);
    assert.ok(h.cloud.vms.has('vm-1'));

    // Still failing at the next deploy: a warning, the row kept, the rollout goes on.
    h.agents.failCall = null;
    h.eventLines.length = 0;
    await run(h, replan(swapping(), swapping()));
    assert.ok(
      h.eventLines.some((l) => l.type === 'warning' && /vm-1.*IaaS unavailable/.test(String(l.message))),
    );
    assert.deepEqual([...h.store.leftovers.keys()], ['vm-1']);

    h.cloud.failWith = null;
    await run(h, replan(swapping(), swapping()));
    assert.equal(h.cloud.vms.has('vm-1'), false);
    assert.equal(h.store.leftovers.size, 0);
    assert.deepEqual(h.log.matching('store:vmSwapped'), [], 'the instance keeps its old VM');
  });

  it('falls back to delete-create for static IPs, and for in-place updates nothing is swapped', async () => {
    const fixed = swapping({ azs: ['z1'], networks: [{ name: 'default', static_ips: ['127.1.0.10'] }] });
    const h = harness();
    await run(h, replan(fixed, fixed, bumpStemcell));
    const cpi = h.log.matching('cpi:').filter((e) => /_vm/.test(e));
    assert.deepEqual(cpi, ['cpi:delete_vm:vm-id-0', 'cpi:create_vm', 'cpi:set_vm_metadata:vm-1']);

    const g = harness();
    await run(g, replan(swapping(), swapping({ persistent_disk: 2048 })));
    assert.equal(g.log.matching('cpi:create_vm').length, 0);
  });
});
