import { z } from 'zod';
import type { DirectorDeps } from '../feature.ts';
import type { TaskHandler } from '../tasks/task-context.ts';
import { deleteOrphanDisk } from './delete-orphan-disk.ts';
import { OrphanDiskStore } from './orphan-disk-store.ts';

export const DELETE_ORPHAN_DISKS = 'delete_orphan_disks';

export const DeleteOrphanDisksParams = z.object({ cids: z.array(z.string().min(1)).min(1) });
export type DeleteOrphanDisksParams = z.infer<typeof DeleteOrphanDisksParams>;

/**
 * `delete_orphan_disks` (BOSH's jobs/delete_orphan_disks.rb): one `Deleting orphaned disks`
 * stage, each disk CPI `delete_disk` then its row (a disk the IaaS no longer has loses its row
 * all the same). A cid that is no orphan is only logged: the task still succeeds, as BOSH's.
 */
export function deleteOrphanDisksTask(
  deps: Pick<DirectorDeps, 'db' | 'cloud'>,
): TaskHandler<DeleteOrphanDisksParams> {
  return {
    type: DELETE_ORPHAN_DISKS,
    parseParams: (raw) => DeleteOrphanDisksParams.parse(raw),
    async run(ctx, { cids }) {
      const store = new OrphanDiskStore(deps.db);
      const stage = ctx.events.stage('Deleting orphaned disks', { total: cids.length });
      for (const cid of cids) {
        await stage.task(`Deleting orphaned disk ${cid}`, async () => {
          const deleted = await deleteOrphanDisk(
            { cloud: deps.cloud, store, signal: ctx.signal, log: ctx.cpi },
            cid,
          );
          ctx.debug.write(deleted ? `Deleted orphan disk ${cid}\n` : `Disk not found: ${cid}\n`);
        });
      }
      return `orphaned disk(s) ${cids.join(', ')} deleted`;
    },
  };
}
