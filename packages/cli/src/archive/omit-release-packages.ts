import { createReadStream, createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createGzip } from 'node:zlib';
import tarStream from 'tar-stream';
import { ArchiveError } from './read-tar-member.ts';

/**
 * Copies a release tarball to `target`, leaving out the package archives (`packages/<name>.tgz`
 * or `compiled_packages/<name>.tgz`) the director already has, as the stock CLI does after
 * `POST /packages/matches`. Everything else (release.MF, jobs, license) is copied as is, in order.
 */
export async function omitReleasePackages(
  source: string,
  target: string,
  omit: ReadonlySet<string>,
  signal: AbortSignal,
): Promise<number> {
  const extract = tarStream.extract();
  const pack = tarStream.pack();
  let omitted = 0;
  extract.on('entry', (header, stream, next) => {
    const name = header.name.replace(/^(\.\/)+/, '');
    const match = /^(?:compiled_)?packages\/([^/]+)\.tgz$/.exec(name);
    if (match?.[1] !== undefined && omit.has(match[1])) {
      omitted += 1;
      stream.on('end', () => next());
      stream.resume();
      return;
    }
    stream.pipe(pack.entry(header, (error) => next(error ?? undefined)));
  });
  extract.on('finish', () => pack.finalize());
  try {
    await Promise.all([
      pipeline(createReadStream(source), createGunzip(), extract, { signal }),
      pipeline(pack, createGzip(), createWriteStream(target), { signal }),
    ]);
  } catch (error) {
    if (signal.aborted) throw error;
    throw new ArchiveError(`Repacking '${source}': ${(error as Error).message}`, { cause: error });
  }
  return omitted;
}
