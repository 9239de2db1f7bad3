import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { planDeployment } from '../../planner/plan-deployment.ts';
import type { CurrentInstance, DeploymentPlan } from '../../planner/plan-types.ts';
import {
  compile,
  convergedState,
  manifestValue,
  sequentialIds,
} from '../../planner/planner-fixtures.test-support.ts';
import { updateDeployment } from '../update-deployment.ts';
import { harness, initialPlan, targetsFor } from '../updater-harness.test-support.ts';
import type { InstanceTarget } from '../updater-ports.ts';
import { ReloadingAgents } from './reload-agents.test-support.ts';

const onV11 = (i: CurrentInstance): CurrentInstance => ({
  ...i,
  vm: i.vm && { ...i.vm, stemcell: { ...i.vm.stemcell, version: '1.1' } },
});

function reloadPlan(): DeploymentPlan {
  const state = convergedState(initialPlan());
  return planDeployment({
    deployment: compile(manifestValue()),
    current: { instances: state.instances.map(onV11), reservations: state.reservations },
    newId: sequentialIds('new'),
    options: { stemcellStrategy: 'reload' },
    reloadable: [{ operatingSystem: 'ubuntu-jammy', version: '1.2' }],
  });
}

function setup(fallback: 'fail' | 'recreate' = 'fail') {
  const h = harness();
  const agents = new ReloadingAgents(h.agents, h.log, h.clock);
  const debug: string[] = [];
  const deps = { ...h.deps, agents };
  const plan = reloadPlan();
  const targets = new Map<string, InstanceTarget>();
  for (const [id, t] of targetsFor(plan)) {
    targets.set(id, {
      ...t,
      reload: {
        stemcell: { name: 'refit-ubuntu-jammy', version: '1.2', operatingSystem: 'ubuntu-jammy' },
        blobstoreId: 'rootfs-blob',
        digest: `sha256:${'b'.repeat(64)}`,
        size: 54_000_000,
        fallback,
        bootTimeoutMs: 60_000,
        debug: (line) => debug.push(line),
      },
    });
  }
  return { h, agents, deps, plan, targets, debug };
}

describe('OS reload in the updater', () => {
  it('reloads every instance in place: stage before drain, reboot, same VM, v1.2 recorded', async () => {
    const { h, deps, plan, targets, debug } = setup();
    assert.ok(plan.instanceGroups[0]!.instances.every((i) => i.stemcellStrategy?.strategy === 'reload'));
    await updateDeployment(deps, plan, targets);
    const i0 = h.log.entries.indexOf('store:updateStarted:id-0');
    const end = h.log.entries.indexOf('store:updateCompleted:id-0');
    const seq = h.log.entries.slice(i0 + 1, end).filter((e) => !e.endsWith(':get_state:timeout'));
    assert.deepEqual(seq, [
      `agent:agent-id-0:update_rootfs:rootfs-blob,sha256:${'b'.repeat(64)}@1.2`,
      'agent:agent-id-0:get_state',
      'agent:agent-id-0:run_script:pre-stop',
      'agent:agent-id-0:drain:update',
      'agent:agent-id-0:stop',
      'agent:agent-id-0:run_script:post-stop',
      'agent:agent-id-0:reboot',
      'agent:agent-id-0:get_state',
      'cpi:set_vm_metadata:vm-id-0',
      'agent:agent-id-0:mount_disk',
      'agent:agent-id-0:apply',
      'agent:agent-id-0:run_script:pre-start',
      'agent:agent-id-0:start',
      'agent:agent-id-0:get_state',
      'agent:agent-id-0:run_script:post-start',
    ]);
    assert.ok(!h.log.entries.some((e) => e.startsWith('cpi:create_vm') || e.startsWith('cpi:delete_vm')));
    for (const [id, row] of h.store.instances) {
      assert.equal(row.vm?.cid, `vm-${id}`, `${id} keeps its VM`);
      assert.equal(row.vm?.stemcell.version, '1.2');
      assert.equal(row.completed, true);
    }
    // The canary (id-0) finishes before any other instance starts.
    const canaryDone = h.log.entries.indexOf('store:updateCompleted:id-0');
    assert.ok(h.log.entries.indexOf('store:updateStarted:id-1') > canaryDone);
    const statuses = h.eventLines.map((l) => (l.data as { status?: string } | undefined)?.status ?? '');
    for (const s of [
      'staging rootfs 1.2 (54 MB)',
      'rebooting',
      'waiting for agent',
      'mounting disk',
      'applying',
    ]) {
      assert.ok(
        statuses.some((x) => x.startsWith(s)),
        `event status ${s}`,
      );
    }
    assert.equal(debug.filter((l) => /downtime \d+ ms .* 5000 bytes fetched/.test(l)).length, 3);
  });

  it('fails the canary when its VM comes back on 1.1 (reload_fallback: fail): no VM replaced', async () => {
    const { h, agents, deps, plan, targets } = setup('fail');
    agents.fallsBack.add('agent-id-0');
    await assert.rejects(
      updateDeployment(deps, plan, targets),
      /failed while waiting for agent: .*came back on stemcell 1.1/,
    );
    assert.ok(!h.log.entries.some((e) => e.startsWith('cpi:create_vm') || e.startsWith('cpi:delete_vm')));
    assert.ok(!h.log.entries.includes('store:updateStarted:id-1'), 'the rollout stopped at the canary');
    assert.equal(h.store.instances.get('id-0')?.vm?.stemcell.version ?? '1.1', '1.1');
  });

  it('sees a fallback also when the agent was down only inside one get_state call', async () => {
    const { h, agents, deps, plan, targets } = setup('fail');
    agents.fallsBack.add('agent-id-0');
    agents.slowReboot = true;
    await assert.rejects(updateDeployment(deps, plan, targets), /came back on stemcell 1.1/);
    assert.ok(h.clock.now() - Date.UTC(2026, 0, 1) < 60_000, 'failed well before the boot deadline');
  });

  it('recreates from the IaaS stemcell when the reload fails (reload_fallback: recreate)', async () => {
    const { h, agents, deps, plan, targets } = setup('recreate');
    agents.fallsBack.add('agent-id-0');
    await updateDeployment(deps, plan, targets);
    assert.ok(h.log.entries.includes('cpi:delete_vm:vm-id-0'));
    assert.equal(h.log.entries.filter((e) => e.startsWith('cpi:create_vm')).length, 1, 'only the failed one');
    assert.equal(h.store.instances.get('id-0')?.vm?.stemcell.version, '1.2');
    assert.notEqual(h.store.instances.get('id-0')?.vm?.cid, 'vm-id-0');
    assert.equal(h.store.instances.get('id-1')?.vm?.cid, 'vm-id-1');
    assert.ok(
      h.eventLines.some((l) => /reload_fallback: recreate: recreating web\/id-0/.test(JSON.stringify(l))),
    );
  });
});
