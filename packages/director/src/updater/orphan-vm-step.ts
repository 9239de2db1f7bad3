import type { UpdaterDeps, VmRef } from './updater-ports.ts';

/** How long the old VM's agent gets to answer `shutdown` before the VM is orphaned anyway. */
const SHUTDOWN_TIMEOUT_MS = 30_000;

/**
 * The old VM of a finished `create-swap-delete` (BOSH's `OrphanVmStep`): its agent is sent
 * `shutdown` (jobs already stopped, disk already detached; an agent that does not answer or
 * does not know the method is no failure: the VM goes anyway), then it is recorded as an
 * orphaned VM, which the scheduled orphaned VM cleanup or `clean-up` deletes. Its addresses
 * stay reserved until then.
 */
export async function orphanVmStep(deps: UpdaterDeps, old: VmRef): Promise<void> {
  try {
    await deps.agents.call(old.agentId, 'shutdown', [], {
      signal: AbortSignal.any([deps.signal, AbortSignal.timeout(SHUTDOWN_TIMEOUT_MS)]),
    });
  } catch (error) {
    deps.signal.throwIfAborted();
    deps.cpiLog.write(`orphaning vm ${old.cid}: agent shutdown: ${(error as Error).message}\n`);
  }
  await deps.store.vmOrphaned(old.cid);
}
