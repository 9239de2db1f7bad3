import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, mkdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { extractTar } from '@refit/archive';
import type { CpiContext } from './context.ts';
import { CpiFailure } from './cpi-failure.ts';

async function sha256(path: string, signal: AbortSignal): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash, { signal });
  return hash.digest('hex');
}

const exists = (path: string) =>
  lstat(path).then(
    () => true,
    () => false,
  );

/**
 * Unpacks a stemcell image (a tar, gzipped or not, of a root tree) into a root dir named by the
 * image's sha256, shared by every stemcell with that image. @refit/archive refuses entries that
 * escape the root and never writes through a symlink; device nodes only under dev/. Extraction
 * goes into a temporary dir, renamed into place only when complete and checked for the init.
 */
export async function unpackRoot(
  ctx: CpiContext,
  imagePath: string,
): Promise<{ digest: string; root: string }> {
  const info = await stat(imagePath).catch(() => null);
  if (info === null || !info.isFile()) {
    throw CpiFailure.cloud(`create_stemcell: image ${imagePath} is not a file`);
  }
  const digest = await sha256(imagePath, ctx.signal);
  const root = join(ctx.state.roots, digest);
  if (await exists(join(root, ctx.config.initPath))) return { digest, root };
  await mkdir(ctx.state.roots, { recursive: true });
  const tmp = join(ctx.state.roots, `.unpack-${randomBytes(6).toString('hex')}`);
  await mkdir(tmp, { mode: 0o755 });
  try {
    await extractTar(createReadStream(imagePath), tmp, { signal: ctx.signal, allowDevicesUnder: 'dev' });
    if (!(await exists(join(tmp, ctx.config.initPath)))) {
      throw CpiFailure.cloud(
        `create_stemcell: image ${imagePath} has no ${ctx.config.initPath} (the VM's init; see the refit-cpi-local README)`,
      );
    }
    await rename(tmp, root).catch((error: NodeJS.ErrnoException) => {
      // Another create_stemcell of the same image won the race: use its tree.
      if (error.code !== 'ENOTEMPTY' && error.code !== 'EEXIST') throw error;
    });
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  return { digest, root };
}
