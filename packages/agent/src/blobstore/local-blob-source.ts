import { createReadStream, createWriteStream } from 'node:fs';
import { access, mkdir, rename } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { z } from 'zod';
import { AgentError, AgentErrorCode } from '../errors.ts';
import type { BlobSource } from './blob-source.ts';

export const LocalOptions = z.object({ blobstore_path: z.string().min(1) }).passthrough();

/** BOSH's `local` provider: one file per blob id in a directory. */
export class LocalBlobSource implements BlobSource {
  readonly #dir: string;
  constructor(dir: string) {
    this.#dir = dir;
  }

  #file(id: string): string {
    if (!/^[A-Za-z0-9._-]+$/.test(id) || id.startsWith('.')) {
      throw new AgentError(AgentErrorCode.BlobFetch, `blob id '${id}' is not a plain name`);
    }
    return join(this.#dir, id);
  }

  async get(id: string): Promise<Readable> {
    const file = this.#file(id);
    try {
      await access(file);
    } catch (cause) {
      throw new AgentError(AgentErrorCode.BlobFetch, `blob ${id} not found in ${this.#dir}`, { cause });
    }
    return createReadStream(file);
  }

  async put(id: string, body: () => Readable, _size: number, signal: AbortSignal): Promise<void> {
    await mkdir(this.#dir, { recursive: true });
    const file = this.#file(id);
    const tmp = `${file}.part`;
    await pipeline(body(), createWriteStream(tmp), { signal });
    await rename(tmp, file);
  }
}
