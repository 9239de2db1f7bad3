import { z } from 'zod';
import type { CpiMethodHandler } from '../context.ts';
import { isSameAlive } from '../host/process.ts';
import type { VmLayout } from '../state/layout.ts';
import { findVm } from '../state/stores.ts';
import { readStatus } from '../vm/vm-control.ts';
import { parseArgs } from './parse-args.ts';

const Args = z.tuple([z.string()]).rest(z.unknown());

/**
 * Whether the VM still exists on this host: its record, and something of it alive — its
 * supervisor, or (a supervisor killed alone leaves the VM running) its `unshare` or init. A
 * record whose supervisor and processes are all gone is a VM the "IaaS" lost (a host crash, a
 * kill from outside): `false`, so cloud check reports `missing_vm` as BOSH does. A VM not booted
 * yet (no status written) and a VM powered off from inside (it waits for `reboot_vm`, as a
 * stopped IaaS VM does) still exist.
 */
export async function vmAlive(vm: VmLayout): Promise<boolean> {
  const status = await readStatus(vm);
  if (status === null || status.power === 'off') return true;
  for (const id of [status.supervisor, status.unshare, status.init]) {
    if (id !== null && (await isSameAlive(id))) return true;
  }
  return false;
}

export const hasVm: CpiMethodHandler = {
  method: 'has_vm',
  async run(ctx, args) {
    const [cid] = parseArgs('has_vm', Args, args);
    const record = await findVm(ctx.state, cid);
    if (record === null) return false;
    return vmAlive(ctx.state.vm(record.cid));
  },
};
