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

  it('deletes unneeded instances first: stop with drain shutdown, detach, delete VM, orphan disk', async () => {
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
    // BOSH's order: unmount, detach, remove; the VM goes; the disk is orphaned, never deleted.
    const order = [
      `agent:agent-${id}:unmount_disk`,
      `cpi:detach_disk:vm-${id}`,
      `agent:agent-${id}:remove_persistent_disk`,
      `cpi:delete_vm:vm-${id}`,
      `store:diskOrphaned:${id}:disk-${id}`,
      `store:instanceDeleted:${id}`,
    ];
    assert.deepEqual(
      h.log.entries.filter((e) => order.includes(e)),
      order,
    );
    assert.equal(h.log.matching('cpi:delete_disk').length, 0);
    assert.deepEqual(
      h.recorded.filter((e) => e.objectName === `disk-${id}`).map((e) => e.action),
      ['detach', 'delete'],
    );
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
