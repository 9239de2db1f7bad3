import type { VmStrategy } from '../manifests/update-config.ts';
import type { CurrentDisk, InstancePlan } from '../planner/plan-types.ts';
import { createVmStep } from './create-vm-step.ts';
import { detachDiskStep } from './disk-steps.ts';
import { deleteLeftoverVm } from './leftover-vms-step.ts';
import type { InstanceStateStore, InstanceTarget, StoredVm, UpdaterDeps } from './updater-ports.ts';

/**
 * The instance swaps VMs (reference §4.4 D): `create-swap-delete` planned for a recreate of a
 * VM whose agent answers (static IPs were already planned as delete-create).
 */
export function swapsVm(plan: InstancePlan, vmStrategy: VmStrategy | undefined): boolean {
  return (
    vmStrategy === 'create-swap-delete' &&
    plan.action === 'recreate' &&
    plan.existing?.vm != null &&
    plan.existing.agentResponsive !== false
  );
}

/**
 * The replacement VM of a swapping instance, made in `Creating missing vms` while the old VM
 * still runs its jobs. createVmStep records the VM as soon as the IaaS has it: as a leftover
 * (not orphaned) here, so the instance's record still names the VM that runs its jobs, and a
 * director dying before the swap leaves it for the next deploy's `Deleting leftover vms`.
 * `recorded` learns of it then (before its agent answers), so a caller can delete it on a failure.
 */
export async function createReplacementVm(
  deps: UpdaterDeps,
  target: InstanceTarget,
  recorded: (vm: StoredVm) => void = () => undefined,
): Promise<StoredVm> {
  const store: InstanceStateStore = {
    ...bound(deps.store),
    vmCreated: async (id, vm) => {
      await deps.store.vmLeftover(id, vm);
      recorded(vm);
    },
  };
  return createVmStep({ ...deps, store }, target, []);
}

/**
 * The swap of a `create-swap-delete` recreate (reference §4.4 D), onto the replacement VM made
 * and `prepare`d (jobless) before the rollout: `prepare` with the full spec while the old VM
 * still runs its jobs, then the old instance is stopped (`stopOld`) and its persistent disk
 * detached, and the swap recorded in one transaction (the new VM becomes the instance's, the
 * old one a leftover). On a failure before the swap the new VM is deleted, best effort, and the
 * instance stays on its old VM, dirty. Answers the new VM; the caller attaches the disk,
 * applies, starts, and orphans the old VM (orphan-vm-step.ts).
 */
export async function swapVmStep(
  deps: UpdaterDeps,
  target: InstanceTarget,
  old: StoredVm,
  vm: StoredVm,
  disk: CurrentDisk | null,
  stopOld: () => Promise<void>,
): Promise<StoredVm> {
  const { plan } = target;
  try {
    await deps.agents.call(vm.agentId, 'prepare', [target.applySpec], { signal: deps.signal });
    await stopOld();
    if (disk !== null) await detachDiskStep(deps, plan, old, disk.cid);
  } catch (error) {
    await deleteLeftoverVm(deps, vm.cid).catch(() => undefined);
    throw error;
  }
  await deps.store.vmSwapped(plan.id, old, vm, plan.releasedAfterSwap ?? []);
  return vm;
}

/** The store's methods bound to it, so a copy with one method replaced still works. */
function bound(store: InstanceStateStore): InstanceStateStore {
  return {
    updateStarted: (id) => store.updateStarted(id),
    vmCreated: (id, vm) => store.vmCreated(id, vm),
    vmDeleted: (id, cid) => store.vmDeleted(id, cid),
    diskCreated: (id, d) => store.diskCreated(id, d),
    inactiveDiskCreated: (id, d) => store.inactiveDiskCreated(id, d),
    inactiveDisks: (id) => store.inactiveDisks(id),
    diskDeleted: (id, cid) => store.diskDeleted(id, cid),
    diskOrphaned: (id, cid) => store.diskOrphaned(id, cid),
    diskReplaced: (id, oldCid, d) => store.diskReplaced(id, oldCid, d),
    vmLeftover: (id, vm) => store.vmLeftover(id, vm),
    vmSwapped: (id, old, vm, ips) => store.vmSwapped(id, old, vm, ips),
    vmOrphaned: (cid) => store.vmOrphaned(cid),
    leftoverVmDeleted: (cid) => store.leftoverVmDeleted(cid),
    leftoverVms: () => store.leftoverVms(),
    updateCompleted: (id, applied) => store.updateCompleted(id, applied),
    instanceDeleted: (id) => store.instanceDeleted(id),
  };
}
