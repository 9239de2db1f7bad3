import type { Readable } from 'node:stream';
import { ArchiveError, ArchiveErrorCode } from './archive-error.ts';
import { entryComponents, EntryChecker, type EntryPolicyOptions } from './entry-policy.ts';
import { openTar } from './open-tar.ts';
import type { TarHeader } from './tar-header.ts';

export interface ReadTarOptions {
  readonly gzip?: 'auto' | boolean;
  readonly signal?: AbortSignal;
}

export interface ListTarOptions extends ReadTarOptions {
  /** When given, every header is checked with this policy; the first hostile one throws. */
  readonly policy?: EntryPolicyOptions;
}

/**
 * The headers of every member, in archive order, streamed (bodies are skipped, nothing is kept).
 * With `policy`, this is also a full safety check of the archive without extracting it.
 */
export async function* listTar(
  source: Readable,
  options: ListTarOptions = {},
): AsyncGenerator<TarHeader, void> {
  const checker = options.policy ? new EntryChecker(options.policy) : null;
  for await (const { header } of openTar(source, tarOptions(options))) {
    checker?.check(header);
    yield header;
  }
}

export interface ReadTarFileOptions extends ReadTarOptions {
  /** Largest member accepted, in bytes (default 1 MiB): this is for manifests, not images. */
  readonly maxBytes?: number;
}

/**
 * The content of one regular-file member (`stemcell.MF` also matches `./stemcell.MF`), or null
 * if the archive has no such file. Stops reading the archive once found; a member larger than
 * `maxBytes` is an ArchiveError (`member_too_large`) without reading it.
 */
export async function readTarFile(
  source: Readable,
  path: string,
  options: ReadTarFileOptions = {},
): Promise<Buffer | null> {
  const wanted = entryComponents(path).join('/');
  const maxBytes = options.maxBytes ?? 1024 * 1024;
  for await (const { header, body } of openTar(source, tarOptions(options))) {
    if (header.type !== 'file' && header.type !== 'contiguous-file') continue;
    let name: string;
    try {
      name = entryComponents(header.name).join('/');
    } catch {
      continue; // hostile names never match a safe path
    }
    if (name !== wanted) continue;
    if (header.size > maxBytes) {
      throw new ArchiveError(
        ArchiveErrorCode.MemberTooLarge,
        `entry '${header.name}' is ${header.size} bytes, more than the ${maxBytes} allowed`,
        { entryPath: header.name },
      );
    }
    const chunks: Buffer[] = [];
    for await (const chunk of body as AsyncIterable<Buffer>) chunks.push(chunk);
    return Buffer.concat(chunks);
  }
  return null;
}

function tarOptions(options: ReadTarOptions) {
  return { gzip: options.gzip ?? ('auto' as const), ...(options.signal ? { signal: options.signal } : {}) };
}
