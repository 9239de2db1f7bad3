import { z } from 'zod';
import type { CpiMethodHandler } from '../context.ts';
import { findDisk } from '../state/stores.ts';
import { parseArgs } from './parse-args.ts';

const Args = z.tuple([z.string()]).rest(z.unknown());

export const hasDisk: CpiMethodHandler = {
  method: 'has_disk',
  async run(ctx, args) {
    const [cid] = parseArgs('has_disk', Args, args);
    return (await findDisk(ctx.state, cid)) !== null;
  },
};
