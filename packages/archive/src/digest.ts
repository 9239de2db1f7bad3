import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { strongestDigest, type DigestAlgorithm, type DigestEntry } from '@refit/protocol';
import { ArchiveError, ArchiveErrorCode } from './archive-error.ts';

/** Hex digests by algorithm, for the algorithms that were computed. */
export type Digests = Partial<Record<DigestAlgorithm, string>>;

export interface DigestResult {
  readonly size: number;
  readonly digests: Digests;
}

/**
 * A pass-through stream that hashes what flows through it with every algorithm given, so a
 * copy (upload → disk) and its digests take one pass. Read `result()` once the data has ended.
 */
export class DigestingStream extends Transform {
  private readonly hashes: ReadonlyArray<readonly [DigestAlgorithm, Hash]>;
  private size = 0;

  constructor(algorithms: readonly DigestAlgorithm[]) {
    super();
    this.hashes = [...new Set(algorithms)].map((a) => [a, createHash(a)] as const);
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    for (const [, hash] of this.hashes) hash.update(chunk);
    this.size += chunk.length;
    done(null, chunk);
  }

  /** Size and hex digests of everything that went through. Call once, after the end. */
  result(): DigestResult {
    const digests: Digests = {};
    for (const [algorithm, hash] of this.hashes) digests[algorithm] = hash.digest('hex');
    return { size: this.size, digests };
  }
}

/** Hashes a stream (consumed to its end) with every algorithm in one pass. */
export async function hashStream(
  source: Readable | AsyncIterable<Buffer | string>,
  algorithms: readonly DigestAlgorithm[],
  signal?: AbortSignal,
): Promise<DigestResult> {
  const hashes = [...new Set(algorithms)].map((a) => [a, createHash(a)] as const);
  let size = 0;
  for await (const chunk of source as AsyncIterable<Buffer | string>) {
    signal?.throwIfAborted();
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    for (const [, hash] of hashes) hash.update(buffer);
    size += buffer.length;
  }
  signal?.throwIfAborted();
  const digests: Digests = {};
  for (const [algorithm, hash] of hashes) digests[algorithm] = hash.digest('hex');
  return { size, digests };
}

/** Hashes a file with every algorithm in one streamed read. */
export async function digestFile(
  path: string,
  algorithms: readonly DigestAlgorithm[],
  signal?: AbortSignal,
): Promise<DigestResult> {
  const stream = createReadStream(path, signal ? { signal } : {});
  try {
    return await hashStream(stream, algorithms, signal);
  } finally {
    stream.destroy();
  }
}

/** Thrown by verifyMultiDigest; carries both digests. */
export class DigestMismatchError extends ArchiveError {
  override name = 'DigestMismatchError';
  readonly expected: DigestEntry;
  readonly actual: string | null;

  constructor(expected: DigestEntry, actual: string | null) {
    super(
      ArchiveErrorCode.DigestMismatch,
      actual === null
        ? `no ${expected.algorithm} digest was computed to check against expected ${expected.algorithm}:${expected.hex}`
        : `digest mismatch: expected ${expected.algorithm}:${expected.hex}, actual ${expected.algorithm}:${actual}`,
    );
    this.expected = expected;
    this.actual = actual;
  }
}

/**
 * Checks computed digests against a parsed multi-digest (protocol's `MultiDigest`) using its
 * strongest algorithm, as BOSH does. Throws DigestMismatchError naming both digests.
 */
export function verifyMultiDigest(actual: Digests, expected: readonly DigestEntry[]): void {
  const strongest = strongestDigest(expected);
  const computed = actual[strongest.algorithm];
  if (computed === undefined) throw new DigestMismatchError(strongest, null);
  if (computed.toLowerCase() !== strongest.hex.toLowerCase())
    throw new DigestMismatchError(strongest, computed);
}
