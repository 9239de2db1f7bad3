import { z } from 'zod';
import type { CpiMethodHandler } from '../context.ts';
import { writeJsonFile } from '../state/json-file.ts';
import { withLock } from '../state/lock.ts';
import { requireVm } from '../state/stores.ts';
import { parseArgs } from './parse-args.ts';

const Args = z.tuple([z.string(), z.record(z.string(), z.unknown())]).rest(z.unknown());

/** Stored as the VM's tags; `refit-cpi-local tags <vm-cid> --config FILE` prints them. */
export const setVmMetadata: CpiMethodHandler = {
  method: 'set_vm_metadata',
  async run(ctx, args) {
    const [cid, metadata] = parseArgs('set_vm_metadata', Args, args);
    const vm = await requireVm(ctx.state, cid);
    await withLock(ctx.state.locks, vm.cid, () => writeJsonFile(ctx.state.vm(vm.cid).metadataFile, metadata));
    return null;
  },
};
