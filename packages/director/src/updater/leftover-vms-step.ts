import { CpiCallError } from '../cpi-client/cpi-call-error.ts';
import { cpiCall } from './instance-label.ts';
import { runPool } from './run-pool.ts';
import type { UpdaterDeps } from './updater-ports.ts';

/** CPI `delete_vm` of a leftover (one the IaaS no longer has counts as deleted), then its record goes. */
export async function deleteLeftoverVm(
  deps: Pick<UpdaterDeps, 'cloud' | 'signal' | 'cpiLog'> & {
    readonly store: Pick<UpdaterDeps['store'], 'leftoverVmDeleted'>;
  },
  cid: string,
): Promise<void> {
  try {
    await cpiCall(deps, 'delete_vm', [cid]);
  } catch (error) {
    if (!(error instanceof CpiCallError && error.cpiErrorType === 'Bosh::Clouds::VMNotFound')) throw error;
  }
  await deps.store.leftoverVmDeleted(cid);
}

/**
 * The first stage of a deploy when a previous one died mid `create-swap-delete` (its new VM
 * before the swap, its old VM after it, still recorded as leftovers): `Deleting leftover vms`,
 * one task per VM. A VM that cannot be deleted now is a warning and stays recorded for the next
 * deploy; it is no instance's VM, so the rollout does not depend on it. Answers how many went.
 */
export async function deleteLeftoverVmsStep(deps: UpdaterDeps): Promise<number> {
  const leftovers = await deps.store.leftoverVms();
  if (leftovers.length === 0) return 0;
  const stage = deps.events.stage('Deleting leftover vms', { total: leftovers.length });
  let deleted = 0;
  await runPool(leftovers, deps.maxThreads ?? 32, (vm) =>
    stage.task(vm.cid, async () => {
      try {
        await deleteLeftoverVm(deps, vm.cid);
      } catch (error) {
        deps.signal.throwIfAborted();
        deps.events.warning(
          `leftover vm ${vm.cid} of instance ${vm.instanceId}: ${(error as Error).message}`,
        );
        return;
      }
      deleted++;
      await deps.record({
        action: 'delete',
        objectType: 'vm',
        objectName: vm.cid,
        instance: null,
        context: { leftover_of_instance: vm.instanceId },
      });
    }),
  );
  return deleted;
}
