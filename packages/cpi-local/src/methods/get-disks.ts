import { z } from 'zod';
import type { CpiMethodHandler } from '../context.ts';
import { disksAttachedTo, requireVm } from '../state/stores.ts';
import { parseArgs } from './parse-args.ts';

const Args = z.tuple([z.string()]).rest(z.unknown());

export const getDisks: CpiMethodHandler = {
  method: 'get_disks',
  async run(ctx, args) {
    const [cid] = parseArgs('get_disks', Args, args);
    const vm = await requireVm(ctx.state, cid);
    return (await disksAttachedTo(ctx.state, vm.cid)).sort();
  },
};
