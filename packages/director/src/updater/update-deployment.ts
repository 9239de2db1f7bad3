import { BugError } from '../errors.ts';
import type { DeploymentPlan, InstanceGroupPlan, InstancePlan } from '../planner/plan-types.ts';
import { createVmStep } from './create-vm-step.ts';
import { instanceLabel } from './instance-label.ts';
import { deleteLeftoverVmsStep } from './leftover-vms-step.ts';
import { runAll, runPool } from './run-pool.ts';
import { deleteInstance, joblessSpec, updateInstance } from './update-instance.ts';
import type { InstanceTarget, StoredVm, UpdaterDeps } from './updater-ports.ts';

/**
 * Carries out a deployment plan (reference §4.3 steps 3–6), as named stages:
 * `Deleting leftover vms` (only after a deploy died mid create-swap-delete) →
 * `Deleting unneeded instances` → `Creating missing vms` → `Downloading packages` →
 * `Updating instance` per group (groups of a run in parallel, runs in order). The first
 * failure stops the rollout (§4.5) and is thrown.
 */
export async function updateDeployment(
  deps: UpdaterDeps,
  plan: DeploymentPlan,
  targets: ReadonlyMap<string, InstanceTarget>,
): Promise<void> {
  const targetOf = (id: string): InstanceTarget => {
    const target = targets.get(id);
    if (target === undefined) throw new BugError(`no target for instance ${id}`);
    return target;
  };
  await deleteLeftoverVmsStep(deps);
  await deleteUnneeded(deps, plan.obsoleteInstances, plan.deleteMaxInFlight, []);
  const created = await createMissingVms(deps, plan, targetOf);
  const groups = new Map(plan.instanceGroups.map((g) => [g.name, g]));
  for (const run of plan.groupRuns) {
    await runAll(
      run.map((name) => async () => {
        const group = groups.get(name);
        if (group === undefined) throw new BugError(`group run names unknown group ${name}`);
        await updateGroup(deps, group, targetOf, created);
      }),
    );
  }
}

async function deleteUnneeded(
  deps: UpdaterDeps,
  obsolete: readonly InstancePlan[],
  maxInFlight: number,
  tags: readonly string[],
): Promise<void> {
  if (obsolete.length === 0) return;
  const stage = deps.events.stage('Deleting unneeded instances', { tags, total: obsolete.length });
  await runPool(obsolete, maxInFlight, (plan) =>
    stage.task(plan.existing?.vm?.cid ?? instanceLabel(plan), (progress) =>
      deleteInstance(deps, plan, progress),
    ),
  );
}

/** Stages 4–5: VMs for new instances, then `prepare` with the jobless spec on each. */
async function createMissingVms(
  deps: UpdaterDeps,
  plan: DeploymentPlan,
  targetOf: (id: string) => InstanceTarget,
): Promise<Map<string, StoredVm>> {
  const fresh = plan.instanceGroups
    .filter((g) => g.lifecycle === 'service')
    .flatMap((g) => g.instances)
    .filter((i) => i.action === 'create' && i.existing === null && i.desiredState !== 'detached');
  const created = new Map<string, StoredVm>();
  if (fresh.length === 0) return created;
  const limit = deps.maxThreads ?? 32;
  const creating = deps.events.stage('Creating missing vms', { total: fresh.length });
  await runPool(fresh, limit, (i) =>
    creating.task(instanceLabel(i), async () => {
      created.set(i.id, await createVmStep(deps, targetOf(i.id), []));
    }),
  );
  const downloading = deps.events.stage('Downloading packages', { total: fresh.length });
  await runPool(fresh, limit, (i) =>
    downloading.task(instanceLabel(i), async () => {
      const vm = created.get(i.id);
      if (vm === undefined) throw new BugError(`no VM created for ${i.id}`);
      await deps.agents.call(vm.agentId, 'prepare', [joblessSpec(targetOf(i.id).applySpec)], {
        signal: deps.signal,
      });
    }),
  );
  return created;
}

/** One group (reference §4.5): its obsolete instances first, then its stages in order. */
async function updateGroup(
  deps: UpdaterDeps,
  group: InstanceGroupPlan,
  targetOf: (id: string) => InstanceTarget,
  created: ReadonlyMap<string, StoredVm>,
): Promise<void> {
  await deleteUnneeded(deps, group.obsolete, Math.max(1, group.stages[0]?.maxInFlight ?? 1), [group.name]);
  const count = group.stages.reduce((n, s) => n + s.instanceIds.length, 0);
  if (count === 0) return;
  const stage = deps.events.stage('Updating instance', { tags: [group.name], total: count });
  const byId = new Map(group.instances.map((i) => [i.id, i]));
  const runStage = (s: InstanceGroupPlan['stages'][number]) =>
    runPool(s.instanceIds, s.maxInFlight, async (id) => {
      const instance = byId.get(id);
      if (instance === undefined) throw new BugError(`stage names unknown instance ${id}`);
      const watch = s.canary ? group.update.canaryWatchTime : group.update.updateWatchTime;
      await stage.task(`${instanceLabel(instance)}${s.canary ? ' (canary)' : ''}`, (progress) =>
        updateInstance(
          deps,
          targetOf(id),
          { watch, precreated: created.get(id) ?? null, vmStrategy: group.vmStrategy },
          progress,
        ),
      );
    });
  const canaries = group.stages.filter((s) => s.canary);
  const rest = group.stages.filter((s) => !s.canary);
  for (const s of canaries) await runStage(s);
  if (group.azsInParallel) await runAll(rest.map((s) => () => runStage(s)));
  else for (const s of rest) await runStage(s);
}
