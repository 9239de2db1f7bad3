import { z } from 'zod';
import { CpiErrorType } from '@refit/protocol';
import { writeSettings } from '../agent-settings.ts';
import type { CpiMethodHandler } from '../context.ts';
import { CpiFailure } from '../cpi-failure.ts';
import { withLock } from '../state/lock.ts';
import { disksAttachedTo, requireDisk, requireVm, saveDisk } from '../state/stores.ts';
import { unmountDisk } from '../vm/attach-mounts.ts';
import { parseArgs } from './parse-args.ts';

const Args = z.tuple([z.string(), z.string()]).rest(z.unknown());

export const detachDisk: CpiMethodHandler = {
  method: 'detach_disk',
  async run(ctx, args) {
    const [vmCid, diskCid] = parseArgs('detach_disk', Args, args);
    const vm = await requireVm(ctx.state, vmCid);
    await requireDisk(ctx.state, diskCid);
    await withLock(ctx.state.locks, vm.cid, () =>
      withLock(ctx.state.locks, diskCid, async () => {
        const disk = await requireDisk(ctx.state, diskCid);
        if (disk.vm_cid !== vm.cid) {
          throw new CpiFailure(
            CpiErrorType.DiskNotAttached,
            `detach_disk: disk '${disk.cid}' is not attached to VM '${vm.cid}'`,
          );
        }
        const layout = ctx.state.vm(vm.cid);
        await unmountDisk(layout, disk.cid).catch((error: unknown) => {
          throw CpiFailure.cloud(
            `detach_disk: cannot unmount disk '${disk.cid}': ${(error as Error).message}`,
            {
              cause: error,
            },
          );
        });
        await saveDisk(ctx.state, { ...disk, vm_cid: null });
        await writeSettings(ctx.config, layout, vm, await disksAttachedTo(ctx.state, vm.cid));
      }),
    );
    return null;
  },
};
