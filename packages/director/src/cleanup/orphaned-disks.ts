import type { DirectorDeps } from '../feature.ts';
import { deleteOrphanDisk } from '../disks/delete-orphan-disk.ts';
import { OrphanDiskStore } from '../disks/orphan-disk-store.ts';
import type { CleanupDisks } from './cleanup-task.ts';

/** Clean-up's view of the disks module: its orphaned disks, deleted as `delete-disk` deletes one. */
export function orphanedDisks(deps: Pick<DirectorDeps, 'db' | 'cloud'>): CleanupDisks {
  const store = new OrphanDiskStore(deps.db);
  return {
    list: async () =>
      (await store.list()).map((d) => ({
        cid: d.cid,
        size: d.size,
        az: d.az,
        deploymentName: d.deploymentName,
        instanceName: d.instanceName,
        cloudProperties: d.cloudProperties,
        orphanedAt: d.createdAt,
      })),
    delete: async (cid, ctx) => {
      await deleteOrphanDisk({ cloud: deps.cloud, store, signal: ctx.signal, log: ctx.cpi }, cid);
    },
  };
}
