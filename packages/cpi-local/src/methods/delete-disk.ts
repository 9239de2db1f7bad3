import { z } from 'zod';
import type { CpiMethodHandler } from '../context.ts';
import { CpiFailure } from '../cpi-failure.ts';
import { removeTree } from '../host/mounts.ts';
import { withLock } from '../state/lock.ts';
import { requireDisk } from '../state/stores.ts';
import { parseArgs } from './parse-args.ts';

const Args = z.tuple([z.string()]).rest(z.unknown());

export const deleteDisk: CpiMethodHandler = {
  method: 'delete_disk',
  async run(ctx, args) {
    const [cid] = parseArgs('delete_disk', Args, args);
    const found = await requireDisk(ctx.state, cid);
    await withLock(ctx.state.locks, found.cid, async () => {
      const disk = await requireDisk(ctx.state, cid);
      if (disk.vm_cid !== null) {
        throw CpiFailure.cloud(
          `delete_disk: disk '${disk.cid}' is attached to VM '${disk.vm_cid}'; detach it first`,
        );
      }
      await removeTree(ctx.state.disk(disk.cid).dir);
    });
    return null;
  },
};
