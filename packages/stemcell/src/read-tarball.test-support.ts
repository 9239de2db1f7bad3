import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import tar from 'tar-stream';
import type { Header } from 'tar-stream';

export interface ReadEntry {
  readonly header: Header;
  readonly sha256: string;
  readonly sha1: string;
  /** The content, for entries up to 1 MiB. */
  readonly content?: Buffer;
}

/** Reads a tar (or tgz) back, streamed: every entry's header and digests, small contents. */
export async function readTarball(
  source: string | Readable,
  options: { gzip: boolean },
): Promise<Map<string, ReadEntry>> {
  const input = typeof source === 'string' ? createReadStream(source) : source;
  const extract = tar.extract();
  const entries = new Map<string, ReadEntry>();
  const feed = options.gzip ? input.pipe(createGunzip()) : input;
  feed.pipe(extract);
  for await (const entry of extract) {
    const sha256 = createHash('sha256');
    const sha1 = createHash('sha1');
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of entry as AsyncIterable<Buffer>) {
      sha256.update(chunk);
      sha1.update(chunk);
      size += chunk.length;
      if (size <= 1 << 20) chunks.push(chunk);
    }
    entries.set(entry.header.name, {
      header: { ...entry.header },
      sha256: sha256.digest('hex'),
      sha1: sha1.digest('hex'),
      ...(size <= 1 << 20 ? { content: Buffer.concat(chunks) } : {}),
    });
  }
  return entries;
}
