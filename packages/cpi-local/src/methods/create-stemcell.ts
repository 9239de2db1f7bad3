import { z } from 'zod';
import type { CpiMethodHandler } from '../context.ts';
import { CpiFailure } from '../cpi-failure.ts';
import { writeJsonFile } from '../state/json-file.ts';
import { newCid } from '../state/layout.ts';
import { unpackRoot } from '../stemcell-root.ts';
import { parseArgs } from './parse-args.ts';
import { mkdir } from 'node:fs/promises';

const Args = z
  .tuple([z.string().min(1), z.record(z.string(), z.unknown()).nullable().default({})])
  .rest(z.unknown());

export const createStemcell: CpiMethodHandler = {
  method: 'create_stemcell',
  async run(ctx, args) {
    const [imagePath, cloudProperties] = parseArgs('create_stemcell', Args, args);
    const { digest, root } = await unpackRoot(ctx, imagePath).catch((error: unknown) => {
      if (error instanceof CpiFailure) throw error;
      throw CpiFailure.cloud(`create_stemcell: cannot unpack ${imagePath}: ${(error as Error).message}`, {
        cause: error,
      });
    });
    const cid = newCid('sc');
    await mkdir(ctx.state.stemcells, { recursive: true });
    await writeJsonFile(ctx.state.stemcellFile(cid), {
      cid,
      digest,
      root,
      cloud_properties: cloudProperties ?? {},
      created_at: new Date().toISOString(),
    });
    ctx.log(`stemcell ${cid}: root ${root}`);
    return cid;
  },
};
