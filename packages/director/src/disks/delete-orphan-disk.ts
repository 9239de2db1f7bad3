import { CpiErrorType } from '@refit/protocol';
import type { CpiCallLog, Cloud } from '../cpi-client/cloud.ts';
import { CpiCallError } from '../cpi-client/cpi-call-error.ts';
import type { OrphanDiskStore } from './orphan-disk-store.ts';

export interface DeleteOrphanDiskDeps {
  readonly cloud: Cloud;
  readonly store: OrphanDiskStore;
  readonly signal: AbortSignal;
  /** The task's `cpi` log; calls go unlogged without one. */
  readonly log?: CpiCallLog;
}

const unlogged: CpiCallLog = { write: () => undefined };

/**
 * Deletes one orphaned disk as BOSH's `OrphanDiskManager#delete_orphan_disk` does: CPI
 * `delete_disk`, then the row. A disk the IaaS no longer has (`DiskNotFound`, or `VMNotFound`
 * from CPIs that answer so) still loses its row. Returns false when `cid` is not an orphan
 * (BOSH logs it and succeeds: nothing is called).
 */
export async function deleteOrphanDisk(deps: DeleteOrphanDiskDeps, cid: string): Promise<boolean> {
  const orphan = await deps.store.find(cid);
  if (orphan === null) return false;
  try {
    await deps.cloud.call('delete_disk', [cid], { signal: deps.signal, log: deps.log ?? unlogged });
  } catch (error) {
    if (!isDiskGone(error)) throw error;
  }
  await deps.store.remove(cid);
  return true;
}

/** The CPI says the disk (or, for some CPIs, the thing holding it) does not exist. */
export function isDiskGone(error: unknown): boolean {
  return (
    error instanceof CpiCallError &&
    (error.cpiErrorType === CpiErrorType.DiskNotFound || error.cpiErrorType === CpiErrorType.VMNotFound)
  );
}
