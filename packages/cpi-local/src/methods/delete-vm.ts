import { z } from 'zod';
import type { CpiContext, CpiMethodHandler } from '../context.ts';
import { removeTree, unmountAll } from '../host/mounts.ts';
import { withLock } from '../state/lock.ts';
import { allDisks, requireVm, saveDisk } from '../state/stores.ts';
import { stopVm } from '../vm/vm-control.ts';
import { parseArgs } from './parse-args.ts';

const Args = z.tuple([z.string()]).rest(z.unknown());

/** Stops the VM, detaches its disks and removes every mount and file it had. */
export async function destroyVm(ctx: CpiContext, cid: string): Promise<void> {
  const vm = ctx.state.vm(cid);
  await stopVm(vm, ctx.signal);
  for (const disk of await allDisks(ctx.state)) {
    if (disk.vm_cid !== cid) continue;
    await withLock(ctx.state.locks, disk.cid, () => saveDisk(ctx.state, { ...disk, vm_cid: null }));
    ctx.log(`disk ${disk.cid} detached from deleted VM ${cid}`);
  }
  await unmountAll(vm.dir);
  await removeTree(vm.dir);
}

export const deleteVm: CpiMethodHandler = {
  method: 'delete_vm',
  async run(ctx, args) {
    const [cid] = parseArgs('delete_vm', Args, args);
    const vm = await requireVm(ctx.state, cid);
    await withLock(ctx.state.locks, vm.cid, () => destroyVm(ctx, vm.cid));
    return null;
  },
};
