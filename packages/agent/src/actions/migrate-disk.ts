import { MigrateDiskArgs, type MigrateDiskResult } from '@refit/protocol';
import { defineAction } from './action.ts';

/**
 * Copies /var/vcap/store onto the new persistent disk (mounted on store_migration_target by the
 * `mount_disk` BOSH sends first, or here if it was not) and mounts that disk on the store in
 * place of the old one; the director then detaches and deletes the old disk. The Go agent
 * ignores the two CIDs; Refit's checks that the old one is the disk on the store.
 */
export const migrateDisk = defineAction({
  method: 'migrate_disk',
  mode: 'async',
  args: MigrateDiskArgs,
  async run(ctx, [oldCid, newCid], signal): Promise<MigrateDiskResult> {
    await ctx.disks.migrate(oldCid, newCid, signal);
    return { mounted: newCid };
  },
});
