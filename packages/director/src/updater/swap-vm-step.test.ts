// vm_strategy create-swap-delete (swap-vm-step.ts) with the testkit fakes.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CurrentInstance } from '../planner/plan-types.ts';
import { manifestValue, type ManifestInput } from '../planner/planner-fixtures.test-support.ts';
import { deleteLeftoverVm } from './leftover-vms-step.ts';
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

  it('creates and prepares the new VM in Creating missing vms, moves the disk, orphans the old VM last', async () => {
    const h = harness();
    const plan = replan(swapping(), swapping(), bumpStemcell);
    assert.equal(plan.instanceGroups[0]!.vmStrategy, 'create-swap-delete');
    const planned = plan.instanceGroups[0]!.instances[0]!;
    assert.notEqual(planned.networkSettings.default?.ip, planned.existing?.vm?.networkSettings.default?.ip);
    assert.equal(planned.releasedAfterSwap?.length, 1);
    await run(h, plan);
    // Before the instance is touched (stages 4 and 5): the replacement VM, jobless prepare.
    const started = h.log.entries.indexOf('store:updateStarted:id-0');
    assert.deepEqual(
      h.log.entries.slice(0, started).map((e) => e.replace(/new-agent-\d+/, 'NEW')),
      [
        'cpi:create_vm',
        'store:vmLeftover:id-0:vm-1',
        'cpi:set_vm_metadata:vm-1',
        'agent:NEW:ping:vm-1',
        'agent:NEW:prepare',
      ],
    );
    const prepares = h.agents.calls.filter((c) => c.method === 'prepare');
    assert.deepEqual(
      prepares.map((c) => (c.args[0] as { job: { templates: unknown[] } }).job),
      [{ templates: [] }, { templates: [] }],
    );
    assert.equal(
      (prepares[0]!.args[0] as { rendered_templates_archive: unknown }).rendered_templates_archive,
      null,
    );
    assert.deepEqual(
      h.eventLines.filter((l) => l.state === 'started').map((l) => l.stage),
      ['Creating missing vms', 'Downloading packages', 'Updating instance'],
    );
    assert.deepEqual(sequence(h), [
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
      'agent:OLD:shutdown',
      'store:vmOrphaned:vm-id-0',
    ]);
    assert.deepEqual(h.cloud.calls.find((c) => c.method === 'create_vm')?.args[4], []);
    assert.deepEqual(h.log.matching('cpi:delete_vm'), [], 'the old VM is orphaned, not deleted');
    assert.deepEqual([...h.store.orphanedVms], ['vm-id-0']);
    assert.deepEqual([...h.store.leftovers.keys()], ['vm-id-0']);
    assert.deepEqual(h.store.releasedIps, [], "the old VM's address stays reserved until it is deleted");
    const row = h.store.instances.get('id-0');
    assert.equal(row?.vm?.cid, 'vm-1');
    assert.equal(row?.completed, true);
    assert.deepEqual([...h.cloud.vms.keys()], ['vm-1'], 'the fake IaaS holds only the VMs the test created');
    assert.deepEqual(h.cloud.vms.get('vm-1')?.disks, new Set(['disk-id-0']));

    // What the scheduled cleanup and clean-up do with it (deleteLeftoverVm): gone, address released.
    await deleteLeftoverVm(h.deps, 'vm-id-0');
    assert.deepEqual(h.log.matching('cpi:delete_vm'), ['cpi:delete_vm:vm-id-0']);
    assert.equal(h.store.leftovers.size, 0);
    assert.deepEqual(h.store.releasedIps, planned.releasedAfterSwap);
  });

  it('every replacement VM exists before any instance is touched; those not reached go when the rollout fails', async () => {
    const three = bigGroup(3, {
      update: { vm_strategy: 'create-swap-delete', canaries: 1, max_in_flight: 1 },
    });
    const h = harness();
    h.agents.failingJobs('new-agent-1');
    await assert.rejects(run(h, replan(three, three, bumpStemcell)), /is not running after update/);
    const firstStart = h.log.entries.findIndex((e) => e.startsWith('store:updateStarted:'));
    assert.equal(h.log.entries.slice(0, firstStart).filter((e) => e === 'cpi:create_vm').length, 3);
    assert.equal(h.log.entries.slice(firstStart).filter((e) => e === 'cpi:create_vm').length, 0);
    assert.equal(h.log.matching('store:updateStarted').length, 1, 'only the canary was updated');
    // The canary swapped (its old VM goes, as after any failure past the swap); the two
    // replacement VMs the rollout never reached are deleted too.
    assert.deepEqual(h.log.matching('cpi:delete_vm').sort(), [
      'cpi:delete_vm:vm-2',
      'cpi:delete_vm:vm-3',
      'cpi:delete_vm:vm-id-0',
    ]);
    assert.deepEqual([...h.cloud.vms.keys()], ['vm-1']);
    assert.equal(h.store.leftovers.size, 0);
  });

  it('a create_vm or prepare failure in stages 4–5 touches no instance and deletes the replacement VMs', async () => {
    for (const failing of ['create_vm', 'prepare']) {
      const h = harness();
      const three = bigGroup(3, { update: { vm_strategy: 'create-swap-delete' } });
      let creates = 0;
      h.cloud.failWith = (method) =>
        failing === 'create_vm' && method === 'create_vm' && ++creates === 2
          ? new Error('fake create_vm failure')
          : undefined;
      h.agents.failCall = (agent, method) =>
        failing === 'prepare' && method === 'prepare' && agent === 'new-agent-2';
      await assert.rejects(run(h, replan(three, three, bumpStemcell)), new RegExp(`fake ${failing} failure`));
      assert.deepEqual(h.log.matching('store:updateStarted'), [], failing);
      assert.deepEqual(
        h.log.entries.filter((e) => /^agent:agent-id-\d/.test(e)),
        [],
        `${failing}: no old agent called`,
      );
      assert.deepEqual(h.log.matching('store:vmSwapped'), [], failing);
      assert.deepEqual([...h.cloud.vms.keys()], [], `${failing}: every replacement VM deleted`);
      assert.equal(h.store.leftovers.size, 0, failing);
      assert.deepEqual(
        h.log.entries.filter(
          (e) => e.startsWith('store:') && !/^store:(vmLeftover|leftoverVmDeleted):/.test(e),
        ),
        [],
        `${failing}: no instance record changed`,
      );
    }
  });

  it('a replacement VM whose agent never answers is deleted; no instance is touched', async () => {
    const h = harness();
    const three = bigGroup(3, { update: { vm_strategy: 'create-swap-delete' } });
    h.agents.waitUntilReady = (agentId) =>
      agentId === 'new-agent-2' ? Promise.reject(new Error('fake agent timeout')) : Promise.resolve();
    await assert.rejects(run(h, replan(three, three, bumpStemcell)), /fake agent timeout/);
    assert.deepEqual(h.log.matching('store:updateStarted'), []);
    assert.equal(h.log.matching('cpi:delete_vm').length, h.log.matching('cpi:create_vm').length);
    assert.deepEqual([...h.cloud.vms.keys()], []);
    assert.equal(h.store.leftovers.size, 0);
  });

  it('a failure before the swap deletes the new VM and keeps the instance on its old VM and disk', async () => {
    const h = harness();
    h.agents.failCall = (agent, method) => method === 'stop' && agent === 'agent-id-0';
    const plan = replan(swapping(), swapping(), bumpStemcell);
    await assert.rejects(run(h, plan), /fake stop failure/);
    assert.deepEqual(h.log.matching('cpi:delete_vm'), ['cpi:delete_vm:vm-1']);
    assert.deepEqual(h.log.matching('cpi:detach_disk'), []);
    assert.deepEqual(h.log.matching('store:vmSwapped'), [], 'the record keeps the old VM');
    assert.deepEqual(h.log.matching('store:leftoverVmDeleted'), ['store:leftoverVmDeleted:vm-1']);
    assert.equal(h.store.leftovers.size, 0);
    assert.equal(h.store.instances.get('id-0')?.completed, false);
  });

  it('an old agent that does not answer shutdown does not fail the deploy: the VM is orphaned anyway', async () => {
    const h = harness();
    h.agents.failCall = (agent, method) => method === 'shutdown' && agent === 'agent-id-0';
    await run(h, replan(swapping(), swapping(), bumpStemcell));
    assert.deepEqual([...h.store.orphanedVms], ['vm-id-0']);
    assert.equal(h.store.instances.get('id-0')?.completed, true);
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
