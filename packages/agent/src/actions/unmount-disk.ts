import { DiskCidArgs } from '@refit/protocol';
import { defineAction } from './action.ts';

export const unmountDisk = defineAction({
  method: 'unmount_disk',
  mode: 'async',
  args: DiskCidArgs,
  async run(ctx, [cid]) {
    return { message: await ctx.disks.unmount(cid) };
  },
});
