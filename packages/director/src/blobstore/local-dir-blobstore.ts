import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, readFile, readdir, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { BlobInfo, Blobstore } from './blobstore.ts';

const BLOB_ID = /^[0-9a-f]{64}$/;
const INCOMING = '.incoming';

/** Thrown for a blob id that is not a sha256 hex string (ids are content digests). */
export class InvalidBlobIdError extends Error {
  override name = 'InvalidBlobIdError';
}

/** Thrown by `get` for a blob that is not in the store. */
export class BlobNotFoundError extends Error {
  override name = 'BlobNotFoundError';
  readonly blobId: string;
  constructor(blobId: string) {
    super(`blob '${blobId}' not found`);
    this.blobId = blobId;
  }
}

/**
 * The default blobstore: a local directory, content addressed. A blob's id is the sha256 hex of
 * its content and it lives at `<dir>/<id[0..2]>/<id>`. `put` streams into `<dir>/.incoming/`,
 * hashing sha1 and sha256 in the same pass, fsyncs and renames into place, so a blob is either
 * complete or absent; `start()` removes whatever an interrupted `put` left in `.incoming/`.
 */
export class LocalDirBlobstore implements Blobstore {
  readonly dir: string;

  constructor(dir: string) {
    this.dir = dir;
  }

  /** Creates the directory and removes leftovers of incomplete writes. Call once before use. */
  async start(): Promise<void> {
    await rm(join(this.dir, INCOMING), { recursive: true, force: true });
    await mkdir(join(this.dir, INCOMING), { recursive: true });
  }

  /** Streams `source` in; on abort or any error the temporary file is removed and it throws. */
  async put(source: Readable, signal?: AbortSignal): Promise<BlobInfo> {
    const incoming = join(this.dir, INCOMING);
    await mkdir(incoming, { recursive: true });
    const tmp = join(incoming, randomBytes(12).toString('hex'));
    const sha1 = createHash('sha1');
    const sha256 = createHash('sha256');
    let size = 0;
    const hasher = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        sha1.update(chunk);
        sha256.update(chunk);
        size += chunk.length;
        done(null, chunk);
      },
    });
    try {
      const out = createWriteStream(tmp, { flags: 'wx', mode: 0o644 });
      await pipeline(source, hasher, out, signal ? { signal } : {});
      const handle = await open(tmp, 'r');
      try {
        await handle.sync();
      } finally {
        await handle.close();
      }
      const id = sha256.digest('hex');
      const final = this.pathOf(id);
      await mkdir(join(this.dir, id.slice(0, 2)), { recursive: true });
      const sha1Hex = sha1.digest('hex');
      if (await exists(final)) {
        await unlink(tmp);
      } else {
        await rename(tmp, final);
        await writeFile(`${final}.sha1`, sha1Hex);
        await fsyncDir(join(this.dir, id.slice(0, 2)));
      }
      return { id, size, sha1: sha1Hex, sha256: id };
    } catch (error) {
      await rm(tmp, { force: true });
      source.destroy();
      throw error;
    }
  }

  /**
   * A stream of the blob's bytes; `range` is inclusive on both ends as in HTTP
   * (`{start: 10}` = from byte 10 to the end). Throws BlobNotFoundError if absent.
   */
  async get(id: string, range?: { start: number; end?: number }): Promise<Readable> {
    const path = this.pathOf(id);
    const handle = await open(path, 'r').catch((error: unknown) => {
      throw isNotFound(error) ? new BlobNotFoundError(id) : error;
    });
    const options: { start?: number; end?: number } = {};
    if (range) {
      options.start = range.start;
      if (range.end !== undefined) options.end = range.end;
    }
    return handle.createReadStream(options);
  }

  /**
   * Size and digests of a stored blob, or null. The sha1 comes from the `<id>.sha1` note `put`
   * writes beside the blob; without it (a crash right after the rename) the blob is re-read.
   */
  async stat(id: string): Promise<BlobInfo | null> {
    const path = this.pathOf(id);
    let size: number;
    try {
      size = (await stat(path)).size;
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
    const recorded = await readFile(`${path}.sha1`, 'utf8').catch(() => '');
    if (/^[0-9a-f]{40}$/.test(recorded)) return { id, size, sha1: recorded, sha256: id };
    const sha1 = createHash('sha1');
    await pipeline(createReadStream(path), sha1);
    return { id, size, sha1: sha1.digest('hex'), sha256: id };
  }

  /** Removes the blob; a missing blob is not an error. */
  async delete(id: string): Promise<void> {
    const path = this.pathOf(id);
    await rm(path, { force: true });
    await rm(`${path}.sha1`, { force: true });
  }

  /** Every stored blob id (in no particular order); temporary files are never listed. */
  async *list(): AsyncIterable<string> {
    let shards: string[];
    try {
      shards = await readdir(this.dir);
    } catch (error) {
      if (isNotFound(error)) return;
      throw error;
    }
    for (const shard of shards) {
      if (!/^[0-9a-f]{2}$/.test(shard)) continue;
      let names: string[];
      try {
        names = await readdir(join(this.dir, shard));
      } catch (error) {
        if (isNotFound(error)) continue;
        throw error;
      }
      for (const name of names) {
        if (BLOB_ID.test(name) && name.startsWith(shard)) yield name;
      }
    }
  }

  private pathOf(id: string): string {
    if (!BLOB_ID.test(id)) throw new InvalidBlobIdError(`'${id}' is not a blob id (sha256 hex)`);
    return join(this.dir, id.slice(0, 2), id);
  }
}

function isNotFound(error: unknown): boolean {
  return error instanceof Error && (error as NodeJS.ErrnoException).code === 'ENOENT';
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (error) {
    if (isNotFound(error)) return false;
    throw error;
  }
}

async function fsyncDir(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
