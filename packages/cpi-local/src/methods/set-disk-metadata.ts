import { z } from 'zod';
import type { CpiMethodHandler } from '../context.ts';
import { withLock } from '../state/lock.ts';
import { requireDisk, saveDisk } from '../state/stores.ts';
import { parseArgs } from './parse-args.ts';

const Args = z.tuple([z.string(), z.record(z.string(), z.unknown())]).rest(z.unknown());

export const setDiskMetadata: CpiMethodHandler = {
  method: 'set_disk_metadata',
  async run(ctx, args) {
    const [cid, metadata] = parseArgs('set_disk_metadata', Args, args);
    const found = await requireDisk(ctx.state, cid);
    await withLock(ctx.state.locks, found.cid, async () => {
      const disk = await requireDisk(ctx.state, cid);
      await saveDisk(ctx.state, { ...disk, metadata });
    });
    return null;
  },
};
