import { AddPersistentDiskArgs } from '@refit/protocol';
import { defineAction } from './action.ts';

/** Records a disk's hint (what the CPI's attach_disk answered) so mount_disk can find it. */
export const addPersistentDisk = defineAction({
  method: 'add_persistent_disk',
  mode: 'async',
  args: AddPersistentDiskArgs,
  async run(ctx, [cid, hint]) {
    await ctx.settings.addPersistentDisk(cid, hint);
    return {};
  },
});
