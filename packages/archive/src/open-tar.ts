import { Readable } from 'node:stream';
import { createGunzip, type Gunzip } from 'node:zlib';
import { extract as tarExtract, type Extract } from 'tar-stream';
import { ArchiveError, ArchiveErrorCode } from './archive-error.ts';
import { toTarHeader, type TarHeader } from './tar-header.ts';

export interface OpenTarOptions {
  /** `'auto'` (default) looks at the first two bytes for gzip's magic number. */
  readonly gzip?: 'auto' | boolean;
  readonly signal?: AbortSignal;
  /** Called with the running count of bytes read from `source` (compressed bytes). */
  readonly onSourceBytes?: (bytes: number) => void;
}

/**
 * One archive member. `body` streams its content (files only; empty for other types). Read it
 * or not before asking for the next entry: what is left unread is skipped.
 */
export interface TarEntry {
  readonly header: TarHeader;
  readonly body: Readable;
}

type Entry = Extract extends AsyncIterable<infer S> ? S : never;

const GZIP_MAGIC = [0x1f, 0x8b] as const;

/**
 * Reads a tar (or gzipped tar) stream entry by entry, never holding more than a chunk. A
 * truncated gzip or tar stream, or damaged headers, end the iteration with an ArchiveError
 * (`truncated` / `invalid_tar`), never a hang. Breaking out of the loop stops reading and
 * destroys `source`. The signal's abort ends it with the signal's reason.
 */
export async function* openTar(
  source: Readable,
  options: OpenTarOptions = {},
): AsyncGenerator<TarEntry, void> {
  const { signal } = options;
  signal?.throwIfAborted();
  const chunks = source[Symbol.asyncIterator]() as AsyncIterator<Buffer | string>;
  let sourceBytes = 0;
  const nextChunk = async (): Promise<Buffer | null> => {
    const step = await chunks.next();
    if (step.done === true) return null;
    const buffer = typeof step.value === 'string' ? Buffer.from(step.value) : step.value;
    sourceBytes += buffer.length;
    options.onSourceBytes?.(sourceBytes);
    return buffer;
  };

  // Peek at the first bytes (gzip magic), then replay them ahead of the rest.
  const head: Buffer[] = [];
  let headLength = 0;
  let ended = false;
  while (headLength < GZIP_MAGIC.length) {
    const chunk = await nextChunk().catch((error: unknown) => {
      throw readError(error, signal);
    });
    if (chunk === null) {
      ended = true;
      break;
    }
    head.push(chunk);
    headLength += chunk.length;
  }
  const first = Buffer.concat(head);
  const gzip =
    options.gzip === 'auto' || options.gzip === undefined
      ? first[0] === GZIP_MAGIC[0] && first[1] === GZIP_MAGIC[1]
      : options.gzip;

  const raw = Readable.from(
    (async function* () {
      if (first.length > 0) yield first;
      if (ended) return;
      for (let chunk = await nextChunk(); chunk !== null; chunk = await nextChunk()) yield chunk;
    })(),
    { objectMode: false },
  );
  const extract = tarExtract();
  let gunzip: Gunzip | null = null;
  raw.on('error', (error) => extract.destroy(readError(error, signal)));
  if (gzip) {
    gunzip = createGunzip();
    gunzip.on('error', (error) => extract.destroy(gzipError(error)));
    raw.pipe(gunzip).pipe(extract);
  } else {
    raw.pipe(extract);
  }
  // tar-stream destroys an entry's body with a bare "Stream was destroyed" when the archive
  // fails: keep the archive's own error, and report that once the extractor has closed.
  let archiveFailure: unknown = null;
  extract.on('error', (error: unknown) => {
    archiveFailure ??= error;
  });
  const extractClosed = new Promise<void>((resolve) => extract.once('close', () => resolve()));
  const bodyFailure = async (error: unknown): Promise<Error> => {
    await Promise.race([extractClosed, new Promise((resolve) => setTimeout(resolve, 1000))]);
    return tarError(archiveFailure ?? error, signal);
  };
  const onAbort = () => extract.destroy(readError(signal?.reason, signal));
  signal?.addEventListener('abort', onAbort, { once: true });

  const entries = extract[Symbol.asyncIterator]();
  try {
    for (;;) {
      let step: IteratorResult<Entry>;
      try {
        step = await entries.next();
      } catch (error) {
        throw tarError(error, signal);
      }
      if (step.done === true) return;
      const body = new EntryBody(step.value, bodyFailure);
      yield { header: toTarHeader(step.value.header), body: body.readable };
      await body.skipRest();
    }
  } finally {
    signal?.removeEventListener('abort', onAbort);
    raw.destroy();
    gunzip?.destroy();
    extract.destroy();
    await chunks.return?.();
    source.destroy();
  }
}

/**
 * An entry's content as a node Readable. The Readable pulls from tar-stream's entry but never
 * destroys it: a consumer that stops early (or destroys the Readable, as a nested `openTar`
 * does when it breaks) leaves the archive intact, and `skipRest` reads past what is left.
 * Pulls are serialized: tar-stream's iterator takes one `next()` at a time.
 */
class EntryBody {
  private readonly chunks: AsyncIterator<unknown>;
  private readonly failure: (error: unknown) => Promise<Error>;
  private queue: Promise<unknown> = Promise.resolve();
  private done = false;
  private created: Readable | null = null;

  constructor(entry: Entry, failure: (error: unknown) => Promise<Error>) {
    this.chunks = entry[Symbol.asyncIterator]();
    this.failure = failure;
  }

  get readable(): Readable {
    this.created ??= Readable.from(this.pullAll(), { objectMode: false });
    return this.created;
  }

  async skipRest(): Promise<void> {
    while ((await this.pull()) !== null) {
      // skipped content
    }
  }

  private async *pullAll(): AsyncGenerator<Buffer> {
    for (let chunk = await this.pull(); chunk !== null; chunk = await this.pull()) yield chunk;
  }

  private pull(): Promise<Buffer | null> {
    const next = this.queue.then(async () => {
      if (this.done) return null;
      try {
        const step = await this.chunks.next();
        if (step.done === true) {
          this.done = true;
          return null;
        }
        return step.value as Buffer;
      } catch (error) {
        this.done = true;
        throw await this.failure(error);
      }
    });
    this.queue = next.catch(() => undefined);
    return next;
  }
}

function readError(error: unknown, signal: AbortSignal | undefined): Error {
  if (signal?.aborted) return signal.reason instanceof Error ? signal.reason : new Error('aborted');
  return error instanceof Error ? error : new Error(String(error));
}

function gzipError(error: Error): Error {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'Z_BUF_ERROR' || /unexpected end of file/i.test(error.message)) {
    return new ArchiveError(ArchiveErrorCode.Truncated, 'truncated gzip stream', { cause: error });
  }
  return new ArchiveError(ArchiveErrorCode.InvalidTar, `invalid gzip stream: ${error.message}`, {
    cause: error,
  });
}

/** Maps tar-stream's plain errors to ArchiveErrors; ours and abort reasons pass through. */
function tarError(error: unknown, signal: AbortSignal | undefined): Error {
  if (signal?.aborted) return readError(signal.reason, signal);
  if (error instanceof ArchiveError) return error;
  const message = error instanceof Error ? error.message : String(error);
  if (/unexpected end of data/i.test(message)) {
    return new ArchiveError(ArchiveErrorCode.Truncated, 'unexpected end of tar archive', { cause: error });
  }
  if (/premature close/i.test(message)) {
    return new ArchiveError(ArchiveErrorCode.Truncated, 'unexpected end of tar archive', { cause: error });
  }
  return new ArchiveError(ArchiveErrorCode.InvalidTar, `invalid tar archive: ${message}`, { cause: error });
}
