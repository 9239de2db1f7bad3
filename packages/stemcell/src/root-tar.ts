import { createReadStream, createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import type { Header, Pack } from 'tar-stream';

type Headers = Partial<Header> & Pick<Header, 'name'>;
import { DigestingPassThrough, type StreamDigests } from './digest-sink.ts';
import type { RootEntry } from './root-entry.ts';

function tarName(path: string, isDirectory: boolean): string {
  if (path === '') return './';
  return isDirectory ? `./${path}/` : `./${path}`;
}

function headerFor(entry: RootEntry, mtime: Date): Headers {
  // Names only: no user or group names, so the archive does not depend on the build host's
  // /etc/passwd. Numeric ids are what the root tree's own /etc/passwd resolves.
  const base = {
    name: tarName(entry.path, entry.kind === 'directory'),
    mode: entry.mode,
    uid: entry.uid,
    gid: entry.gid,
    mtime,
    uname: '',
    gname: '',
  };
  switch (entry.kind) {
    case 'directory':
      return { ...base, type: 'directory' };
    case 'file':
      return { ...base, type: 'file', size: entry.size };
    case 'symlink':
      return { ...base, type: 'symlink', linkname: entry.target };
    case 'hardlink':
      return { ...base, type: 'link', linkname: `./${entry.target}` };
    case 'char-device':
    case 'block-device':
      return {
        ...base,
        type: entry.kind === 'char-device' ? 'character-device' : 'block-device',
        devmajor: entry.major,
        devminor: entry.minor,
      };
    case 'fifo':
      return { ...base, type: 'fifo' };
  }
}

async function addEntry(
  pack: Pack,
  entry: RootEntry,
  mtime: Date,
  signal: AbortSignal | undefined,
): Promise<void> {
  const header = headerFor(entry, mtime);
  if (entry.kind === 'file' && 'hostFile' in entry.source) {
    const sink = pack.entry(header);
    await pipeline(createReadStream(entry.source.hostFile), sink, signal === undefined ? {} : { signal });
    return;
  }
  const body = entry.kind === 'file' && 'text' in entry.source ? entry.source.text : undefined;
  await new Promise<void>((resolve, reject) => {
    const done = (error?: Error | null): void => (error ? reject(error) : resolve());
    if (body === undefined) pack.entry(header, done);
    else pack.entry(header, body, done);
  });
}

/**
 * Writes the root tree as a plain tar to `outFile`, streamed, and returns its digests. The same
 * entries give the same bytes: the order is fixed by the entries, every mtime is `mtime`, and no
 * host-dependent field (user names, access times) is written.
 */
export async function writeRootTar(
  entries: readonly RootEntry[],
  outFile: string,
  options: { mtime: Date; signal?: AbortSignal },
): Promise<StreamDigests> {
  const pack = tar.pack();
  const digests = new DigestingPassThrough();
  const written = pipeline(
    pack,
    digests,
    createWriteStream(outFile),
    options.signal === undefined ? {} : { signal: options.signal },
  );
  const fed = (async () => {
    for (const entry of entries) {
      options.signal?.throwIfAborted();
      await addEntry(pack, entry, options.mtime, options.signal);
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
