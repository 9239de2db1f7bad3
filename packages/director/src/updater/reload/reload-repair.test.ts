import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { planDeployment } from '../../planner/plan-deployment.ts';
import { Change, type CurrentInstance, type DeploymentPlan } from '../../planner/plan-types.ts';
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
import { STAGING_PROGRESS_EVERY_MS } from './staging-progress.ts';

const onV11 = (i: CurrentInstance): CurrentInstance => ({
  ...i,
  vm: i.vm && { ...i.vm, stemcell: { ...i.vm.stemcell, version: '1.1' } },
});

/** A bump 1.1 → 1.2 (`deploy --strategy reload`), or `recreate --strategy reload` on 1.2. */
function plan(kind: 'bump' | 'recreate'): DeploymentPlan {
  const state = convergedState(initialPlan());
  return planDeployment({
    deployment: compile(manifestValue()),
    current: {
      instances: kind === 'bump' ? state.instances.map(onV11) : state.instances,
      reservations: state.reservations,
    },
    newId: sequentialIds('new'),
    options: {
      stemcellStrategy: 'reload',
      ...(kind === 'recreate'
        ? { instanceStateOverrides: [{ group: '*', state: 'recreate' as const }] }
        : {}),
    },
    reloadable: [{ operatingSystem: 'ubuntu-jammy', version: '1.2' }],
  });
}

function setup(kind: 'bump' | 'recreate', extraChanges: readonly Change[] = []) {
  const h = harness();
  const agents = new ReloadingAgents(h.agents, h.log, h.clock);
  const deps = { ...h.deps, agents };
  const p = plan(kind);
  const targets = new Map<string, InstanceTarget>();
  for (const [id, t] of targetsFor(p)) {
    targets.set(id, {
      ...t,
      plan: { ...t.plan, changes: new Set([...t.plan.changes, ...extraChanges]) },
      reload: {
        stemcell: { name: 'refit-ubuntu-jammy', version: '1.2', operatingSystem: 'ubuntu-jammy' },
        blobstoreId: 'rootfs-blob',
        digest: `sha256:${'b'.repeat(64)}`,
        size: 54_000_000,
        fallback: 'fail',
        bootTimeoutMs: 30_000,
      },
    });
  }
  return { h, agents, deps, plan: p, targets };
}

const statuses = (h: ReturnType<typeof harness>) =>
  h.eventLines.map((l) => ({
    status: (l.data as { status?: string } | undefined)?.status ?? '',
    progress: l.progress as number | undefined,
    task: l.task as string | undefined,
  }));

describe('recreate --strategy reload (same stemcell version)', () => {
  it('is planned as a reload and stages with force; same VM, no IaaS calls', async () => {
    const { h, agents, deps, plan: p, targets } = setup('recreate');
    agents.bootIds = true;
    const instances = p.instanceGroups[0]!.instances;
    assert.ok(instances.every((i) => i.action === 'recreate' && i.stemcellStrategy?.strategy === 'reload'));
    assert.match(instances[0]!.stemcellStrategy?.reason ?? '', /recreate requested/);
    await updateDeployment(deps, p, targets);
    const staging = h.log.entries.filter((e) => e.includes(':update_rootfs:'));
    assert.equal(staging.length, 3);
    assert.ok(
      staging.every((e) => e.endsWith(':force')),
      staging.join('\n'),
    );
    assert.equal(h.log.entries.filter((e) => e.endsWith(':reboot')).length, 3);
    assert.ok(!h.log.entries.some((e) => e.startsWith('cpi:create_vm') || e.startsWith('cpi:delete_vm')));
    for (const [id, row] of h.store.instances) {
      assert.equal(row.vm?.cid, `vm-${id}`);
      assert.equal(row.vm?.stemcell.version, '1.2');
    }
  });

  it('a stemcell bump does not force', async () => {
    const { h, deps, plan: p, targets } = setup('bump');
    await updateDeployment(deps, p, targets);
    const staging = h.log.entries.filter((e) => e.includes(':update_rootfs:'));
    assert.equal(staging.length, 3);
    assert.ok(staging.every((e) => !e.endsWith(':force')));
  });

  it('same version with boot ids: waits for a new boot, not the old agent still answering', async () => {
    const { h, agents, deps, plan: p, targets } = setup('recreate');
    agents.bootIds = true;
    agents.downPolls = 0; // the agent never seems down: only the boot id tells the boots apart
    agents.neverReboots.add('agent-id-0');
    await assert.rejects(updateDeployment(deps, p, targets), /not a new boot on 1\.2/);
    assert.ok(!h.log.entries.includes('agent:agent-id-0:mount_disk'), 'nothing after the reboot ran');
  });

  it('same version without boot ids: an agent seen down (timed-out polls) has rebooted', async () => {
    const { h, deps, plan: p, targets } = setup('recreate');
    await updateDeployment(deps, p, targets);
    assert.equal(h.store.instances.get('id-0')?.completed, true);
    assert.ok(h.log.entries.includes('agent:agent-id-0:get_state:timeout'));
  });

  it('same version without boot ids: an agent never seen down has not rebooted', async () => {
    const { h, agents, deps, plan: p, targets } = setup('recreate');
    agents.downPolls = 0;
    agents.neverReboots.add('agent-id-0');
    await assert.rejects(updateDeployment(deps, p, targets), /not a new boot on 1\.2/);
    assert.ok(!h.log.entries.includes('agent:agent-id-0:apply'));
  });
});

describe('reload: staging progress and agent settings', () => {
  it('shows the download on the instance line at a bounded rate, progress never going back', async () => {
    const { h, agents, deps, plan: p, targets } = setup('bump');
    const total = 54_000_000;
    // 100 reports 100 ms apart: 10 s of download, then unpacking and install.
    agents.stagingReports = [
      ...Array.from({ length: 100 }, (_, i) => ({
        phase: 'downloading' as const,
        bytes_done: Math.round(((i + 1) / 100) * total),
        bytes_total: total,
        bytes_fetched: Math.round(((i + 1) / 100) * total),
        version: null,
      })),
      { phase: 'unpacking', bytes_done: 1, bytes_total: 10, bytes_fetched: total, version: '1.2' },
      { phase: 'installing', bytes_done: 0, bytes_total: null, bytes_fetched: total, version: '1.2' },
    ];
    await updateDeployment(deps, p, targets);
    const lines = statuses(h).filter((l) => l.task?.includes('id-0') === true);
    const downloading = lines.filter((l) => l.status.startsWith('staging rootfs 1.2: downloading'));
    // 10 s of fake time at one line per 2 s at most.
    assert.ok(
      downloading.length >= 4 && downloading.length <= 10_000 / STAGING_PROGRESS_EVERY_MS + 1,
      `${downloading.length}`,
    );
    assert.match(downloading[0]!.status, /downloading 1 MB of 54 MB \(1%\)/);
    assert.ok(lines.some((l) => l.status.startsWith('staging rootfs 1.2: unpacking')));
    assert.ok(lines.some((l) => l.status.startsWith('staging rootfs 1.2: installing')));
    const progress = lines.map((l) => l.progress ?? 0);
    for (let i = 1; i < progress.length; i++) assert.ok(progress[i]! >= progress[i - 1]!, progress.join(','));
    assert.ok(progress.includes(60));
  });

  it('sends update_settings before the reboot when the plan changes agent settings', async () => {
    const { h, deps, plan: p, targets } = setup('bump', [Change.trustedCerts]);
    await updateDeployment(deps, p, targets);
    const e = h.log.entries;
    const settings = e.indexOf('agent:agent-id-0:update_settings');
    assert.ok(settings > e.indexOf('agent:agent-id-0:run_script:post-stop'), e.join('\n'));
    assert.ok(settings < e.indexOf('agent:agent-id-0:reboot'));
    assert.ok(h.eventLines.some((l) => JSON.stringify(l).includes('updating agent settings')));
  });

  it('sends no update_settings when agent settings did not change', async () => {
    const { h, deps, plan: p, targets } = setup('bump');
    await updateDeployment(deps, p, targets);
    assert.ok(!h.log.entries.some((e) => e.endsWith(':update_settings')));
  });
});
