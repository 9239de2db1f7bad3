import { BugError } from '../errors.ts';
import type { DeploymentPlan, InstanceGroupPlan, InstancePlan } from '../planner/plan-types.ts';
import { createVmStep } from './create-vm-step.ts';
import { instanceLabel } from './instance-label.ts';
import { deleteLeftoverVm, deleteLeftoverVmsStep } from './leftover-vms-step.ts';
import { reloadsInPlace } from './reload/reload-instance.ts';
import { createReplacementVm, swapsVm } from './swap-vm-step.ts';
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
  try {
    for (const run of plan.groupRuns) {
      await runAll(
        run.map((name) => async () => {
          const group = groups.get(name);
          if (group === undefined) throw new BugError(`group run names unknown group ${name}`);
          await updateGroup(deps, group, targetOf, created);
        }),
      );
    }
  } catch (error) {
    // Replacement VMs of instances the rollout never reached: best effort now, else recorded
    // leftovers the next deploy deletes first.
    for (const vm of created.swaps.values()) await deleteLeftoverVm(deps, vm.cid).catch(() => undefined);
    throw error;
  }
}

/** The VMs of `Creating missing vms`: new instances' and, not yet taken, swapping instances'. */
interface CreatedVms {
  readonly fresh: ReadonlyMap<string, StoredVm>;
  /** An instance's entry goes when its update starts (it then owns the VM). */
  readonly swaps: Map<string, StoredVm>;
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

/**
 * Stages 4–5 (reference §4.4 D for swaps): VMs for new instances and the replacement VMs of
 * instances that swap VMs (`create-swap-delete`; recorded as leftovers until their swap), then
 * `prepare` with the jobless spec on each. No running instance is touched here: on a failure
 * the replacement VMs made so far are deleted, best effort (else the next deploy deletes them).
 */
async function createMissingVms(
  deps: UpdaterDeps,
  plan: DeploymentPlan,
  targetOf: (id: string) => InstanceTarget,
): Promise<CreatedVms> {
  const services = plan.instanceGroups.filter((g) => g.lifecycle === 'service');
  const fresh = services
    .flatMap((g) => g.instances)
    .filter((i) => i.action === 'create' && i.existing === null && i.desiredState !== 'detached');
  const swapping = new Set(
    services
      .flatMap((g) => g.instances.filter((i) => swapsVm(i, g.vmStrategy)))
      .filter((i) => !reloadsInPlace(targetOf(i.id)))
      .map((i) => i.id),
  );
  const all = [...fresh, ...services.flatMap((g) => g.instances).filter((i) => swapping.has(i.id))];
  const created = new Map<string, StoredVm>();
  const swaps = new Map<string, StoredVm>();
  if (all.length === 0) return { fresh: created, swaps };
  const limit = deps.maxThreads ?? 32;
  try {
    const creating = deps.events.stage('Creating missing vms', { total: all.length });
    await runPool(all, limit, (i) =>
      creating.task(instanceLabel(i), async () => {
        if (swapping.has(i.id)) await createReplacementVm(deps, targetOf(i.id), (vm) => swaps.set(i.id, vm));
        else created.set(i.id, await createVmStep(deps, targetOf(i.id), []));
      }),
    );
    const downloading = deps.events.stage('Downloading packages', { total: all.length });
    await runPool(all, limit, (i) =>
      downloading.task(instanceLabel(i), async () => {
        const vm = created.get(i.id) ?? swaps.get(i.id);
        if (vm === undefined) throw new BugError(`no VM created for ${i.id}`);
        await deps.agents.call(vm.agentId, 'prepare', [joblessSpec(targetOf(i.id).applySpec)], {
          signal: deps.signal,
        });
      }),
    );
  } catch (error) {
    for (const vm of swaps.values()) await deleteLeftoverVm(deps, vm.cid).catch(() => undefined);
    throw error;
  }
  return { fresh: created, swaps };
}

/** One group (reference §4.5): its obsolete instances first, then its stages in order. */
async function updateGroup(
  deps: UpdaterDeps,
  group: InstanceGroupPlan,
  targetOf: (id: string) => InstanceTarget,
  created: CreatedVms,
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
      const precreated = created.fresh.get(id) ?? created.swaps.get(id) ?? null;
      created.swaps.delete(id);
      await stage.task(`${instanceLabel(instance)}${s.canary ? ' (canary)' : ''}`, (progress) =>
        updateInstance(deps, targetOf(id), { watch, precreated, vmStrategy: group.vmStrategy }, progress),
      );
    });
  const canaries = group.stages.filter((s) => s.canary);
  const rest = group.stages.filter((s) => !s.canary);
  for (const s of canaries) await runStage(s);
  if (group.azsInParallel) await runAll(rest.map((s) => () => runStage(s)));
  else for (const s of rest) await runStage(s);
}
