import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';

export interface StreamDigests {
  readonly sha1: string;
  readonly sha256: string;
  readonly size: number;
}

/** A pass-through stream that hashes (sha1 and sha256) and counts what flows through it. */
export class DigestingPassThrough extends Transform {
  readonly #sha1: Hash = createHash('sha1');
  readonly #sha256: Hash = createHash('sha256');
  #size = 0;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.#sha1.update(chunk);
    this.#sha256.update(chunk);
    this.#size += chunk.length;
    callback(null, chunk);
  }

  /** Valid once the stream has ended. */
  digests(): StreamDigests {
    return {
      sha1: this.#sha1.copy().digest('hex'),
      sha256: this.#sha256.copy().digest('hex'),
      size: this.#size,
    };
  }
}
