import type { Readable } from 'node:stream';

/** One blobstore provider: raw streams in and out, no digest logic. */
export interface BlobSource {
  get(id: string, signal: AbortSignal): Promise<Readable>;
  put(id: string, body: () => Readable, size: number, signal: AbortSignal): Promise<void>;
}
