import { createReadStream, createWriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import tar from 'tar-stream';
import { DigestingPassThrough, type StreamDigests } from './digest-sink.ts';

/** One member of a small outer tarball: a manifest (text) or a large artifact (streamed file). */
export type TarballMember =
  | { readonly name: string; readonly mode: number; readonly text: string }
  | { readonly name: string; readonly mode: number; readonly hostFile: string };

export interface GzipOptions {
  readonly level: number;
  readonly mtime: Date;
  readonly signal?: AbortSignal;
}

function signalOption(signal: AbortSignal | undefined): { signal?: AbortSignal } {
  return signal === undefined ? {} : { signal };
}

/** gzip(`inFile`) → `outFile`, streamed, returning the digests of the compressed bytes. */
export async function gzipFile(
  inFile: string,
  outFile: string,
  options: GzipOptions,
): Promise<StreamDigests> {
  const digests = new DigestingPassThrough();
  await pipeline(
    createReadStream(inFile),
    createGzip({ level: options.level }),
    digests,
    createWriteStream(outFile),
    signalOption(options.signal),
  );
  return digests.digests();
}

/** A gzip tar of `members` in the given order, streamed, returning the digests of the result. */
export async function writeGzipTarball(
  members: readonly TarballMember[],
  outFile: string,
  options: GzipOptions,
): Promise<StreamDigests> {
  const pack = tar.pack();
  const digests = new DigestingPassThrough();
  const written = pipeline(
    pack,
    createGzip({ level: options.level }),
    digests,
    createWriteStream(outFile),
    signalOption(options.signal),
  );
  const fed = (async () => {
    for (const member of members) {
      const header = {
        name: member.name,
        mode: member.mode,
        uid: 0,
        gid: 0,
        mtime: options.mtime,
        uname: '',
        gname: '',
      };
      if ('text' in member) {
        await new Promise<void>((resolve, reject) => {
          pack.entry({ ...header, type: 'file' }, member.text, (error) =>
            error ? reject(error) : resolve(),
          );
        });
      } else {
        const { size } = await stat(member.hostFile);
        await pipeline(
          createReadStream(member.hostFile),
          pack.entry({ ...header, type: 'file', size }),
          signalOption(options.signal),
        );
      }
    }
    pack.finalize();
  })();
  try {
    await Promise.all([fed, written]);
  } catch (error) {
    pack.destroy();
    throw error;
  }
  return digests.digests();
}
