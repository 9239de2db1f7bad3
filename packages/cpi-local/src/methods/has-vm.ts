import { z } from 'zod';
import type { CpiMethodHandler } from '../context.ts';
import { findVm } from '../state/stores.ts';
import { parseArgs } from './parse-args.ts';

const Args = z.tuple([z.string()]).rest(z.unknown());

export const hasVm: CpiMethodHandler = {
  method: 'has_vm',
  async run(ctx, args) {
    const [cid] = parseArgs('has_vm', Args, args);
    return (await findVm(ctx.state, cid)) !== null;
  },
};
