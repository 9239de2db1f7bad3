import type { Readable } from 'node:stream';

export interface BlobInfo {
  readonly id: string;
  readonly size: number;
  readonly sha1: string;
  readonly sha256: string;
}

/**
 * Content-addressed blob storage, streamed: never a whole blob in memory. `put` hashes while
 * it writes and only makes the blob visible once complete (no half-written blob survives).
 */
export interface Blobstore {
  put(source: Readable, signal?: AbortSignal): Promise<BlobInfo>;
  get(id: string, range?: { start: number; end?: number }): Promise<Readable>;
  stat(id: string): Promise<BlobInfo | null>;
  delete(id: string): Promise<void>;
  list(): AsyncIterable<string>;
}
