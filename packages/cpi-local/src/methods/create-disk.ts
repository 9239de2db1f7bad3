import { mkdir } from 'node:fs/promises';
import { z } from 'zod';
import type { CpiMethodHandler } from '../context.ts';
import { newCid } from '../state/layout.ts';
import { saveDisk } from '../state/stores.ts';
import { parseArgs } from './parse-args.ts';

const Args = z
  .tuple([z.number().nonnegative(), z.record(z.string(), z.unknown()).nullable().default({})])
  .rest(z.unknown());

/** A persistent disk is a directory under the state dir; its size is recorded, not enforced. */
export const createDisk: CpiMethodHandler = {
  method: 'create_disk',
  async run(ctx, args) {
    const [sizeMib, cloudProperties] = parseArgs('create_disk', Args, args);
    const cid = newCid('disk');
    const disk = ctx.state.disk(cid);
    await mkdir(disk.data, { recursive: true, mode: 0o755 });
    await saveDisk(ctx.state, {
      cid,
      size_mib: sizeMib,
      cloud_properties: cloudProperties ?? {},
      vm_cid: null,
      metadata: {},
      created_at: new Date().toISOString(),
    });
    return cid;
  },
};
