import { DiskCidArgs } from '@refit/protocol';
import { defineAction } from './action.ts';

/** Bind-mounts the disk's hinted directory on /var/vcap/store. */
export const mountDisk = defineAction({
  method: 'mount_disk',
  mode: 'async',
  args: DiskCidArgs,
  async run(ctx, [cid]) {
    await ctx.disks.mount(cid);
    return {};
  },
});
