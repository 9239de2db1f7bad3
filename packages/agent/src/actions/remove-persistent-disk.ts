import { DiskCidArgs } from '@refit/protocol';
import { defineAction } from './action.ts';

export const removePersistentDisk = defineAction({
  method: 'remove_persistent_disk',
  mode: 'async',
  args: DiskCidArgs,
  async run(ctx, [cid]) {
    await ctx.settings.removePersistentDisk(cid);
    return {};
  },
});
