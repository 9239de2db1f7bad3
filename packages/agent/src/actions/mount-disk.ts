import { DiskCidArgs } from '@refit/protocol';
import { defineAction } from './action.ts';

/**
 * Bind-mounts the disk's hinted directory on /var/vcap/store, or on
 * /var/vcap/store_migration_target while another disk holds the store (as the Go agent does,
 * ahead of `migrate_disk`). Answers `{}`, as BOSH's agents do.
 */
export const mountDisk = defineAction({
  method: 'mount_disk',
  mode: 'async',
  args: DiskCidArgs,
  async run(ctx, [cid]) {
    await ctx.disks.mount(cid);
    return {};
  },
});
