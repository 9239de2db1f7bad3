import { rm } from 'node:fs/promises';
import { z } from 'zod';
import { LocalVmBoot } from '@refit/protocol';
import type { CpiMethodHandler } from '../context.ts';
import { readJsonFile } from '../state/json-file.ts';
import { withLock } from '../state/lock.ts';
import { allStemcells, allVmCids, findStemcell } from '../state/stores.ts';
import { parseArgs } from './parse-args.ts';

const Args = z.tuple([z.string()]).rest(z.unknown());

/** Removes the stemcell; its root tree goes too once no stemcell and no VM refers to it. */
export const deleteStemcell: CpiMethodHandler = {
  method: 'delete_stemcell',
  async run(ctx, args) {
    const [cid] = parseArgs('delete_stemcell', Args, args);
    const stemcell = await findStemcell(ctx.state, cid);
    if (stemcell === null) {
      ctx.log(`stemcell ${cid} does not exist: nothing to delete`);
      return null;
    }
    await withLock(ctx.state.locks, 'roots', async () => {
      await rm(ctx.state.stemcellFile(stemcell.cid), { force: true });
      const stemcellUses = (await allStemcells(ctx.state)).some((s) => s.root === stemcell.root);
      const vmUses = await Promise.all(
        (await allVmCids(ctx.state)).map(async (vmCid) => {
          const boot = await readJsonFile(ctx.state.vm(vmCid).bootFile, LocalVmBoot).catch(() => null);
          return boot !== null && (boot.lower === stemcell.root || boot.fallback === stemcell.root);
        }),
      );
      if (!stemcellUses && !vmUses.includes(true)) {
        await rm(stemcell.root, { recursive: true, force: true });
        ctx.log(`removed root ${stemcell.root}`);
      }
    });
    return null;
  },
};
