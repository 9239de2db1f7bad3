import type { CurrentDisk } from '../planner/plan-types.ts';
import { createVmStep } from './create-vm-step.ts';
import { detachDiskStep } from './disk-steps.ts';
import { deleteLeftoverVm } from './leftover-vms-step.ts';
import type { InstanceStateStore, InstanceTarget, StoredVm, UpdaterDeps } from './updater-ports.ts';

/**
 * The first half of a `create-swap-delete` recreate (reference §4.4 D): the replacement VM is
 * created and `prepare`d while the old VM still runs its jobs, then the old instance is stopped
 * (`stopOld`) and its persistent disk detached, and the swap recorded in one transaction (the
 * new VM becomes the instance's, the old one a leftover). Until the swap the new VM is recorded
 * as a leftover and the instance keeps its old VM: on a failure the new VM is deleted, best
 * effort, and the instance stays on its old VM, dirty. Whatever a dying director leaves
 * recorded as a leftover is deleted by the next deploy (`deleteLeftoverVmsStep`). Answers the
 * new VM; the caller attaches the disk, applies, starts, and deletes the old VM.
 */
export async function swapVmStep(
  deps: UpdaterDeps,
  target: InstanceTarget,
  old: StoredVm,
  disk: CurrentDisk | null,
  stopOld: () => Promise<void>,
): Promise<StoredVm> {
  const { plan } = target;
  let created: StoredVm | null = null;
  // createVmStep records the VM as soon as the IaaS has it: as a leftover here, so the
  // instance's record still names the VM that runs its jobs.
  const store: InstanceStateStore = {
    ...bound(deps.store),
    vmCreated: async (id, vm) => {
      created = vm;
      await deps.store.vmLeftover(id, vm);
    },
  };
  let vm: StoredVm;
  try {
    vm = await createVmStep({ ...deps, store }, target, []);
    await deps.agents.call(vm.agentId, 'prepare', [target.applySpec], { signal: deps.signal });
    await stopOld();
    if (disk !== null) await detachDiskStep(deps, plan, old, disk.cid);
  } catch (error) {
    const orphan = created as StoredVm | null;
    if (orphan !== null) await deleteLeftoverVm(deps, orphan.cid).catch(() => undefined);
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
    leftoverVmDeleted: (cid) => store.leftoverVmDeleted(cid),
    leftoverVms: () => store.leftoverVms(),
    updateCompleted: (id, applied) => store.updateCompleted(id, applied),
    instanceDeleted: (id) => store.instanceDeleted(id),
  };
}
