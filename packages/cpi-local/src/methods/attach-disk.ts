import { z } from 'zod';
import { diskHint, writeSettings } from '../agent-settings.ts';
import type { CpiMethodHandler } from '../context.ts';
import { CpiFailure } from '../cpi-failure.ts';
import { withLock } from '../state/lock.ts';
import { disksAttachedTo, requireDisk, requireVm, saveDisk } from '../state/stores.ts';
import { mountDisk } from '../vm/attach-mounts.ts';
import { parseArgs } from './parse-args.ts';

const Args = z.tuple([z.string(), z.string()]).rest(z.unknown());

/**
 * Bind-mounts the disk under the VM's shared attach mount: it appears in the running VM at
 * /var/vcap/bosh/disks/<disk_cid> (the hint), and the settings file lists it.
 */
export const attachDisk: CpiMethodHandler = {
  method: 'attach_disk',
  async run(ctx, args) {
    const [vmCid, diskCid] = parseArgs('attach_disk', Args, args);
    const vm = await requireVm(ctx.state, vmCid);
    await requireDisk(ctx.state, diskCid);
    return withLock(ctx.state.locks, vm.cid, () =>
      withLock(ctx.state.locks, diskCid, async () => {
        const disk = await requireDisk(ctx.state, diskCid);
        if (disk.vm_cid === vm.cid) {
          throw CpiFailure.cloud(`attach_disk: disk '${disk.cid}' is already attached to VM '${vm.cid}'`);
        }
        if (disk.vm_cid !== null) {
          throw CpiFailure.cloud(
            `attach_disk: disk '${disk.cid}' is attached to another VM '${disk.vm_cid}'`,
          );
        }
        const layout = ctx.state.vm(vm.cid);
        await mountDisk(layout, disk.cid, ctx.state.disk(disk.cid).data);
        await saveDisk(ctx.state, { ...disk, vm_cid: vm.cid });
        await writeSettings(ctx.config, layout, vm, await disksAttachedTo(ctx.state, vm.cid));
        return diskHint(disk.cid);
      }),
    );
  },
};
