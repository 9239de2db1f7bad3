import type { CurrentDisk } from '../planner/plan-types.ts';
import { createVmStep } from './create-vm-step.ts';
import { detachDiskStep } from './disk-steps.ts';
import { cpiCall } from './instance-label.ts';
import type { InstanceStateStore, InstanceTarget, StoredVm, UpdaterDeps } from './updater-ports.ts';

/**
 * The first half of a `create-swap-delete` recreate (reference §4.4 D): the replacement VM is
 * created and `prepare`d while the old VM still runs its jobs, then the old instance is stopped
 * (`stopOld`) and its persistent disk detached. Up to here nothing is lost: on a failure the new
 * VM is deleted, best effort, and the old VM recorded again (the store keeps one VM per instance
 * and `createVmStep` recorded the new one), so the instance stays on its old VM and dirty.
 * Answers the new VM; the caller attaches the disk, applies, starts, and deletes the old VM.
 */
export async function swapVmStep(
  deps: UpdaterDeps,
  target: InstanceTarget,
  old: StoredVm,
  disk: CurrentDisk | null,
  stopOld: () => Promise<void>,
): Promise<StoredVm> {
  const { plan } = target;
  let created: string | null = null;
  // Learn the new VM's CID as soon as it is recorded, so a failure while waiting for its agent
  // can still delete it.
  const store: InstanceStateStore = {
    updateStarted: (id) => deps.store.updateStarted(id),
    vmCreated: async (id, vm) => {
      created = vm.cid;
      await deps.store.vmCreated(id, vm);
    },
    vmDeleted: (id, cid) => deps.store.vmDeleted(id, cid),
    diskCreated: (id, d) => deps.store.diskCreated(id, d),
    diskDeleted: (id, cid) => deps.store.diskDeleted(id, cid),
    updateCompleted: (id, applied) => deps.store.updateCompleted(id, applied),
    instanceDeleted: (id) => deps.store.instanceDeleted(id),
  };
  try {
    const vm = await createVmStep({ ...deps, store }, target, []);
    await deps.agents.call(vm.agentId, 'prepare', [target.applySpec], { signal: deps.signal });
    await stopOld();
    if (disk !== null) await detachDiskStep(deps, plan, old, disk.cid);
    return vm;
  } catch (error) {
    if (created !== null) await cpiCall(deps, 'delete_vm', [created]).catch(() => undefined);
    await deps.store.vmCreated(plan.id, old);
    throw error;
  }
}
