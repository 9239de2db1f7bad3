import { z } from 'zod';
import type { CpiMethodHandler } from '../context.ts';
import { CpiFailure } from '../cpi-failure.ts';
import { withLock } from '../state/lock.ts';
import { requireVm } from '../state/stores.ts';
import { rebootVm as reboot } from '../vm/vm-control.ts';
import { parseArgs } from './parse-args.ts';

const Args = z.tuple([z.string()]).rest(z.unknown());

/** Asks the supervisor to reboot (or restarts a lost supervisor); returns once init runs again. */
export const rebootVm: CpiMethodHandler = {
  method: 'reboot_vm',
  async run(ctx, args) {
    const [cid] = parseArgs('reboot_vm', Args, args);
    const vm = await requireVm(ctx.state, cid);
    await withLock(ctx.state.locks, vm.cid, async () => {
      const signal = AbortSignal.any([ctx.signal, AbortSignal.timeout(ctx.config.bootTimeoutMs)]);
      const status = await reboot(ctx.state.vm(vm.cid), signal).catch((error: unknown) => {
        throw CpiFailure.cloud(`reboot_vm ${vm.cid}: ${(error as Error).message}`, { cause: error });
      });
      ctx.log(`vm ${vm.cid}: boot ${status.boots}`);
    });
    return null;
  },
};
