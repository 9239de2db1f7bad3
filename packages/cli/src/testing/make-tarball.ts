import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import tarStream from 'tar-stream';

/** Test support: writes a (gzipped) tarball of the given files, in order. */
export async function makeTarball(
  path: string,
  files: readonly { readonly name: string; readonly content: string | Buffer }[],
  options: { readonly gzip?: boolean } = {},
): Promise<void> {
  const pack = tarStream.pack();
  for (const file of files) pack.entry({ name: file.name }, file.content);
  pack.finalize();
  if (options.gzip === false) await pipeline(pack, createWriteStream(path));
  else await pipeline(pack, createGzip(), createWriteStream(path));
}
