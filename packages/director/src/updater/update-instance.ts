import type { ApplySpec } from '@refit/protocol';
import type { VmStrategy, WatchTimes } from '../manifests/update-config.ts';
import { Change, type CurrentDisk, type InstancePlan } from '../planner/plan-types.ts';
import type { StageProgress } from '../tasks/task-context.ts';
import { createVmStep } from './create-vm-step.ts';
import { reloadsInPlace } from './reload/reload-instance.ts';
import { reloadStep } from './reload/reload-step.ts';
import {
  attachDiskStep,
  createDiskStep,
  detachDiskStep,
  migrateDiskStep,
  orphanDiskStep,
  settleInactiveDisks,
} from './disk-steps.ts';
import { cpiCall } from './instance-label.ts';
import { deleteLeftoverVm } from './leftover-vms-step.ts';
import { startStep } from './start-step.ts';
import { orphanVmStep } from './orphan-vm-step.ts';
import { createReplacementVm, swapsVm, swapVmStep } from './swap-vm-step.ts';
import { stopStep } from './stop-step.ts';
import type { InstanceTarget, StoredVm, UpdaterDeps } from './updater-ports.ts';

/** Changes that need the jobs stopped and started again (in place). */
const restartingChanges: ReadonlySet<Change> = new Set([
  Change.dirty,
  Change.restart,
  Change.packages,
  Change.persistentDisk,
  Change.configuration,
  Change.job,
  Change.state,
]);
const settingsChanges: ReadonlySet<Change> = new Set([
  Change.trustedCerts,
  Change.blobstoreConfig,
  Change.natsConfig,
]);

const name = (plan: InstancePlan) => `${plan.group}/${plan.id}`;

/** The spec `prepare` gets before a new VM runs anything: packages only (§4.3 step 5). */
export function joblessSpec(spec: ApplySpec): ApplySpec {
  return { ...spec, job: { templates: [] }, rendered_templates_archive: null };
}

export interface InstanceRunOptions {
  readonly watch: WatchTimes;
  /** The VM `Creating missing vms` made for a new instance or a swapping one, if any. */
  readonly precreated: StoredVm | null;
  /** The group's `vm_strategy` as planned (static IPs already fell back to delete-create). */
  readonly vmStrategy?: VmStrategy;
}

/**
 * One instance of the `Updating instance` stage (reference §4.4 B, C and E), from its plan. The
 * dirty flag is raised before the first change and cleared only when the instance is done, so
 * an interrupted update is redone by the next deploy.
 */
export async function updateInstance(
  deps: UpdaterDeps,
  target: InstanceTarget,
  options: InstanceRunOptions,
  progress: StageProgress,
): Promise<void> {
  const { plan } = target;
  await deps.store.updateStarted(plan.id);
  if (reloadsInPlace(target)) {
    const fallback = await reloadStep(deps, target, options.watch, progress);
    if (fallback === null) return;
    return updateInstance(deps, fallback, options, progress);
  }
  const existingVm = plan.existing?.vm ?? null;
  const disk: CurrentDisk | null = plan.existing?.disk ?? null;
  let vm: StoredVm | null = existingVm;
  const responsive = plan.existing?.agentResponsive !== false;
  const replacing = plan.action === 'recreate' || plan.action === 'detach';

  const stopExisting = async (old: StoredVm): Promise<void> => {
    const stopping =
      plan.existing?.state === 'started' &&
      (plan.action !== 'update-in-place' ||
        plan.desiredState !== 'started' ||
        [...plan.changes].some((c) => restartingChanges.has(c)));
    if (!stopping || !responsive) return;
    await stopStep(
      deps,
      old.agentId,
      {
        vmNextState: replacing ? 'delete' : 'keep',
        instanceNextState:
          plan.action === 'detach' ? 'detached' : plan.desiredState === 'stopped' ? 'stopped' : 'keep',
        drainType:
          replacing || plan.desiredState !== 'started' || plan.changes.has(Change.persistentDisk)
            ? 'shutdown'
            : 'update',
        skipDrain: plan.skipDrain,
        nextSpec: target.applySpec,
      },
      progress,
    );
    await deps.record({
      action: 'stop',
      objectType: 'instance',
      objectName: name(plan),
      instance: name(plan),
    });
  };

  // create-swap-delete (reference §4.4 D): the new VM exists before the old one stops.
  const swapped = existingVm !== null && swapsVm(plan, options.vmStrategy) ? existingVm : null;
  if (swapped !== null) {
    progress.status('preparing');
    // Made in `Creating missing vms`; made here when a reload in place fell back to this.
    const replacement = options.precreated ?? (await createReplacementVm(deps, target));
    vm = await swapVmStep(deps, target, swapped, replacement, disk, () => stopExisting(swapped));
    if (disk !== null) await attachDiskStep(deps, plan, vm, disk.cid);
  } else if (existingVm !== null) {
    if (plan.action === 'update-in-place') {
      progress.status('preparing');
      await deps.agents.call(existingVm.agentId, 'prepare', [target.applySpec], { signal: deps.signal });
    }
    await stopExisting(existingVm);
    if (replacing) {
      if (disk !== null) await detachDiskStep(deps, plan, existingVm, disk.cid, responsive);
      await deleteVmStep(deps, plan, existingVm.cid);
      vm = null;
    }
  }
  if (plan.action === 'detach') {
    await finish(deps, target, 'detached');
    return;
  }

  try {
    await converge(
      deps,
      target,
      {
        ...options,
        precreated: swapped === null ? options.precreated : null,
        vm,
        disk,
        fresh: vm !== existingVm,
        prepared: swapped !== null,
      },
      progress,
    );
  } catch (error) {
    // The old VM is stopped and without its disk: it goes either way (recorded as a leftover
    // until then, so the next deploy deletes it if this does not).
    if (swapped !== null) await deleteLeftoverVm(deps, swapped.cid).catch(() => undefined);
    throw error;
  }
  // As BOSH's OrphanVmStep: the old VM is shut down and orphaned; a scheduled cleanup deletes it.
  if (swapped !== null) await orphanVmStep(deps, swapped);
  await finish(deps, target, plan.desiredState);
}

interface ConvergeState {
  readonly watch: WatchTimes;
  readonly precreated: StoredVm | null;
  /** The VM the instance has now; null when it needs one. */
  readonly vm: StoredVm | null;
  readonly disk: CurrentDisk | null;
  /** The VM is not the one the instance had (so its settings and packages are new). */
  readonly fresh: boolean;
  /** A swapped-in VM was `prepare`d with the full spec already. */
  readonly prepared: boolean;
}

/** After the old VM is dealt with: VM and disks as planned, settings, apply, start and watch. */
async function converge(
  deps: UpdaterDeps,
  target: InstanceTarget,
  state: ConvergeState,
  progress: StageProgress,
): Promise<void> {
  const { plan } = target;
  let { vm, disk } = state;
  const fresh = state.fresh || vm === null;
  if (vm === null) {
    vm = state.precreated ?? (await createVmStep(deps, target, disk ? [disk.cid] : []));
    if (disk !== null) await attachDiskStep(deps, plan, vm, disk.cid);
  }
  // A migration a dead director left unfinished: its inactive disk is settled before any other.
  disk = await settleInactiveDisks(deps, plan, vm, disk, fresh || plan.existing?.agentResponsive !== false);
  if (plan.persistentDisk !== null) {
    if (disk === null) {
      disk = await createDiskStep(deps, plan, vm);
      await attachDiskStep(deps, plan, vm, disk.cid);
    } else if (
      plan.changes.has(Change.recreatePersistentDisks) ||
      disk.size !== plan.persistentDisk.size ||
      JSON.stringify(disk.cloudProperties) !== JSON.stringify(plan.persistentDisk.cloudProperties)
    ) {
      // `deploy --recreate-persistent-disks`: a new disk with the data copied, as a resize does.
      disk = await migrateDiskStep(deps, plan, vm, disk);
    }
  } else if (disk !== null) {
    await detachDiskStep(deps, plan, vm, disk.cid, plan.existing?.agentResponsive !== false);
    await orphanDiskStep(deps, plan, disk.cid);
  }
  if (fresh || [...plan.changes].some((c) => settingsChanges.has(c))) {
    await deps.agents.call(vm.agentId, 'update_settings', [{ disk_associations: [] }], {
      signal: deps.signal,
    });
  }
  if (fresh && !state.prepared) {
    progress.status('preparing');
    await deps.agents.call(vm.agentId, 'prepare', [target.applySpec], { signal: deps.signal });
  }
  progress.status('installing packages');
  progress.status('configuring jobs');
  await deps.agents.call(vm.agentId, 'apply', [target.applySpec], { signal: deps.signal });
  if (plan.desiredState === 'started') {
    await startStep(deps, vm.agentId, plan, state.watch, progress);
    await deps.record({
      action: 'start',
      objectType: 'instance',
      objectName: name(plan),
      instance: name(plan),
    });
  }
}

async function finish(deps: UpdaterDeps, target: InstanceTarget, state: InstancePlan['desiredState']) {
  const { plan } = target;
  await deps.store.updateCompleted(plan.id, { state, hashes: target.hashes, applySpec: target.applySpec });
  const action = plan.action === 'create' ? 'create' : plan.action === 'recreate' ? 'recreate' : 'update';
  await deps.record({
    action,
    objectType: 'instance',
    objectName: name(plan),
    instance: name(plan),
    context: { changes: [...plan.changes] },
  });
}

/** CPI `delete_vm`, then the VM row goes. */
export async function deleteVmStep(deps: UpdaterDeps, plan: InstancePlan, cid: string): Promise<void> {
  await cpiCall(deps, 'delete_vm', [cid]);
  await deps.store.vmDeleted(plan.id, cid);
  await deps.record({ action: 'delete', objectType: 'vm', objectName: cid, instance: name(plan) });
}

/**
 * An obsolete instance (scale-down, removed group, AZ move): stop with drain `shutdown`,
 * detach its disk (agent `unmount_disk`, CPI `detach_disk`, agent `remove_persistent_disk`),
 * delete its VM, orphan the disk (kept, as BOSH does), forget the instance.
 */
export async function deleteInstance(
  deps: UpdaterDeps,
  plan: InstancePlan,
  progress: StageProgress,
): Promise<void> {
  const existing = plan.existing;
  const vm = existing?.vm ?? null;
  const responsive = existing?.agentResponsive !== false;
  if (vm !== null && existing?.state === 'started' && responsive) {
    await stopStep(
      deps,
      vm.agentId,
      {
        vmNextState: 'delete',
        instanceNextState: 'delete',
        drainType: 'shutdown',
        skipDrain: plan.skipDrain,
        nextSpec: { job: { templates: [] }, networks: {}, packages: {}, persistent_disk: 0 },
      },
      progress,
    );
  }
  const disk = existing?.disk ?? null;
  if (vm !== null) {
    if (disk !== null) await detachDiskStep(deps, plan, vm, disk.cid, responsive);
    await deleteVmStep(deps, plan, vm.cid);
  }
  if (disk !== null) await orphanDiskStep(deps, plan, disk.cid);
  await deps.store.instanceDeleted(plan.id);
  await deps.record({
    action: 'delete',
    objectType: 'instance',
    objectName: name(plan),
    instance: name(plan),
  });
}
