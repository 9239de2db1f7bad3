import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { pipeline } from 'node:stream';
import { createGunzip } from 'node:zlib';
import tarStream from 'tar-stream';
import { CliError } from '../errors.ts';

/** The tarball is unreadable, truncated, or lacks the member we need. */
export class ArchiveError extends CliError {
  constructor(message: string, options?: ErrorOptions) {
    super('archive', message, options);
  }
}

/**
 * Reads one small member (`stemcell.MF`, `rootfs.MF`) of a tarball, gzipped or not, streaming: it
 * stops as soon as the member is read, so a multi-GiB stemcell costs only its first entries.
 */
export async function readTarMember(path: string, member: string, maxBytes = 1024 * 1024): Promise<string> {
  const gzipped = await startsWithGzipMagic(path);
  const source = createReadStream(path);
  const extract = tarStream.extract();
  const stages: NodeJS.ReadWriteStream[] = gzipped ? [createGunzip()] : [];
  let done = false;
  let failure: Error | undefined;
  pipeline(
    [source, ...stages, extract] as unknown as [NodeJS.ReadableStream, NodeJS.WritableStream],
    (error) => {
      if (error !== null && error !== undefined && !done) failure = error;
    },
  );
  try {
    for await (const entry of extract) {
      const name = entry.header.name.replace(/^(\.\/)+/, '');
      if (name !== member || entry.header.type !== 'file') {
        entry.resume();
        continue;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of entry as AsyncIterable<Buffer>) {
        size += chunk.length;
        if (size > maxBytes)
          throw new ArchiveError(`'${member}' in '${path}' is larger than ${maxBytes} bytes`);
        chunks.push(chunk);
      }
      done = true;
      return Buffer.concat(chunks).toString('utf8');
    }
  } catch (error) {
    if (error instanceof ArchiveError) throw error;
    throw new ArchiveError(`Reading '${path}': ${(error as Error).message}`, { cause: error });
  } finally {
    done = true;
    source.destroy();
  }
  if (failure !== undefined)
    throw new ArchiveError(`Reading '${path}': ${failure.message}`, { cause: failure });
  throw new ArchiveError(`'${path}' has no '${member}'`);
}

async function startsWithGzipMagic(path: string): Promise<boolean> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    throw new ArchiveError(`Opening '${path}': ${(error as Error).message}`, { cause: error });
  }
  try {
    const { bytesRead, buffer } = await handle.read(Buffer.alloc(2), 0, 2, 0);
    return bytesRead === 2 && buffer[0] === 0x1f && buffer[1] === 0x8b;
  } finally {
    await handle.close();
  }
}
