// Builds real tarballs in memory for this package's tests (tar-stream pack + zlib gzip).
import { gzipSync } from 'node:zlib';
import { pack, type Header } from 'tar-stream';

export interface FixtureEntry extends Partial<Omit<Header, 'name'>> {
  readonly name: string;
  readonly content?: string | Buffer;
}

export async function buildTar(
  entries: readonly FixtureEntry[],
  options: { gzip?: boolean } = {},
): Promise<Buffer> {
  const packer = pack();
  const collected = (async () => {
    const chunks: Buffer[] = [];
    for await (const chunk of packer) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  })();
  for (const { content, ...header } of entries) {
    await new Promise<void>((resolve, reject) => {
      const done = (error?: Error | null) => (error ? reject(error) : resolve());
      if (content === undefined) packer.entry({ mtime: new Date(1_700_000_000_000), ...header }, done);
      else packer.entry({ mtime: new Date(1_700_000_000_000), ...header }, content, done);
    });
  }
  packer.finalize();
  const tar = await collected;
  return options.gzip === true ? gzipSync(tar) : tar;
}

/**
 * Rewrites fields of the header block at `offset` and its checksum: an unknown typeflag, or a
 * size the archive does not honour.
 */
export function patchHeader(
  tar: Buffer,
  offset: number,
  patch: { typeflag?: string; size?: number },
): Buffer {
  const copy = Buffer.from(tar);
  if (patch.typeflag !== undefined) copy.write(patch.typeflag, offset + 156, 'latin1');
  if (patch.size !== undefined)
    copy.write(`${patch.size.toString(8).padStart(11, '0')} `, offset + 124, 'latin1');
  copy.fill(0x20, offset + 148, offset + 156);
  let sum = 0;
  for (let i = offset; i < offset + 512; i++) sum += copy[i] ?? 0;
  copy.write(`${sum.toString(8).padStart(6, '0')}\0 `, offset + 148, 'latin1');
  return copy;
}
