import { MigrateDiskArgs, type MigrateDiskResult } from '@refit/protocol';
import { defineAction } from './action.ts';

/**
 * Copies /var/vcap/store onto a new, attached persistent disk and mounts that disk on the store
 * in place of the old one (the director then detaches and deletes the old disk).
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
