import { createHash, type Hash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import type { BlobstoreSettings, DigestEntry } from '@refit/protocol';
import { DavOptions, davPath } from '../blobstore/dav-blob-source.ts';
import { drain, httpCall, redact } from '../blobstore/http-request.ts';
import { AgentError, AgentErrorCode, errorMessage } from '../errors.ts';

/** Bounds of one resumable download. */
export interface DownloadLimits {
  /** Attempts in all (the first one included). */
  readonly attempts: number;
  /** First backoff; doubles each retry, with ±50 % jitter, capped at `maxBackoffMs`. */
  readonly backoffMs: number;
  readonly maxBackoffMs: number;
  /** Total bytes read from the blobstore may not exceed this many times the blob's size. */
  readonly byteBudgetFactor: number;
}

export const defaultDownloadLimits: DownloadLimits = {
  attempts: 6,
  backoffMs: 250,
  maxBackoffMs: 8000,
  byteBudgetFactor: 2,
};

interface RangeResponse {
  readonly body: Readable;
  /** Size of the whole blob, when the server said it. */
  readonly total: number | null;
  /** Whether the body starts at the offset asked for (206), or at 0 (200). */
  readonly fromOffset: boolean;
}

/** Opens the blob at a byte offset: dav with an HTTP Range, local with a read stream. */
async function openAt(
  settings: BlobstoreSettings,
  id: string,
  offset: number,
  signal: AbortSignal,
): Promise<RangeResponse> {
  if (settings.provider === 'local') {
    const path = `${String((settings.options as { blobstore_path?: unknown }).blobstore_path)}/${id}`;
    const size = (await stat(path)).size;
    return { body: createReadStream(path, { start: offset, signal }), total: size, fromOffset: true };
  }
  if (settings.provider !== 'dav') {
    throw new AgentError(
      AgentErrorCode.Settings,
      `blobstore provider '${settings.provider}' is not supported`,
    );
  }
  const options = DavOptions.parse(settings.options);
  const url = `${options.endpoint.replace(/\/+$/, '')}/${davPath(id)}`;
  const headers: Record<string, string> = offset > 0 ? { range: `bytes=${offset}-` } : {};
  if (options.user !== undefined) {
    headers['authorization'] =
      `Basic ${Buffer.from(`${options.user}:${options.password ?? ''}`).toString('base64')}`;
  }
  const ca = options.tls?.cert?.ca;
  const response = await httpCall({ method: 'GET', url, headers, signal, ...(ca ? { ca } : {}) });
  const status = response.statusCode ?? 0;
  if (status === 206) {
    const m = /\/(\d+)$/.exec(response.headers['content-range'] ?? '');
    return { body: response, total: m?.[1] === undefined ? null : Number(m[1]), fromOffset: true };
  }
  if (status === 200) {
    const length = Number(response.headers['content-length']);
    return { body: response, total: Number.isFinite(length) ? length : null, fromOffset: offset === 0 };
  }
  const text = await drain(response);
  if (status === 416 && offset > 0) {
    // Everything is already here (a previous attempt ended right after the last byte).
    const m = /\/(\d+)$/.exec(response.headers['content-range'] ?? '');
    if (m?.[1] !== undefined && Number(m[1]) === offset) {
      return { body: Readable.from([]), total: offset, fromOffset: true };
    }
  }
  const error = new AgentError(
    AgentErrorCode.BlobFetch,
    `GET ${redact(new URL(url))}: HTTP ${status} ${text.trim()}`.trim(),
  );
  // 4xx other than 408/429 will not get better by retrying.
  if (status >= 400 && status < 500 && status !== 408 && status !== 429) throw new PermanentError(error);
  throw error;
}

class PermanentError extends Error {
  constructor(cause: Error) {
    super(cause.message, { cause });
  }
}

export interface DownloadProgress {
  readonly done: number;
  readonly total: number | null;
  /** Bytes read from the blobstore in all attempts. */
  readonly fetched: number;
}

/**
 * Streams a blob to `dest`, hashing it in the same pass with the expected digest's algorithm.
 * A broken connection resumes with an HTTP Range from the bytes already on disk (the hash
 * carries on from there), with bounded attempts, exponential backoff with jitter and a byte
 * budget. A digest mismatch throws DigestMismatch; the caller removes `dest`.
 */
export async function downloadResumable(
  settings: BlobstoreSettings,
  id: string,
  expected: DigestEntry,
  dest: string,
  signal: AbortSignal,
  onProgress: (p: DownloadProgress) => void,
  limits: DownloadLimits = defaultDownloadLimits,
): Promise<{ size: number; fetched: number }> {
  // Resume from whatever a previous attempt (or agent) left in `dest`.
  let { hash, size: done } = await hashFile(dest, expected.algorithm, signal);
  let fetched = 0;
  let total: number | null = null;
  let lastError: unknown = null;
  for (let attempt = 1; attempt <= limits.attempts; attempt++) {
    signal.throwIfAborted();
    if (attempt > 1) {
      const base = Math.min(limits.maxBackoffMs, limits.backoffMs * 2 ** (attempt - 2));
      await sleep(base * (0.5 + Math.random()), undefined, { signal });
    }
    try {
      if (total !== null && done === total) break;
      const response = await openAt(settings, id, done, signal);
      if (!response.fromOffset) {
        // The server ignored the Range: start over.
        done = 0;
        hash = createHash(expected.algorithm);
      }
      total = response.total ?? total;
      if (total !== null && fetched > total * limits.byteBudgetFactor) {
        response.body.destroy();
        throw new PermanentError(
          new AgentError(
            AgentErrorCode.BlobFetch,
            `byte budget exceeded: ${fetched} bytes read for ${total}`,
          ),
        );
      }
      const activeHash = hash;
      const counter = new Transform({
        transform(chunk: Buffer, _encoding, callback) {
          activeHash.update(chunk);
          done += chunk.length;
          fetched += chunk.length;
          onProgress({ done, total, fetched });
          callback(null, chunk);
        },
      });
      await pipeline(response.body, counter, createWriteStream(dest, { flags: done === 0 ? 'w' : 'a' }), {
        signal,
      });
      if (total !== null && done !== total) {
        throw new AgentError(AgentErrorCode.BlobFetch, `blob ${id} ended at ${done} of ${total} bytes`);
      }
      lastError = null;
      break;
    } catch (error) {
      if (signal.aborted) throw signal.reason as Error;
      if (error instanceof PermanentError) throw error.cause as Error;
      lastError = error;
      // Resume from what reached the disk: the hash is rebuilt from the file's bytes.
      ({ hash, size: done } = await hashFile(dest, expected.algorithm, signal));
    }
  }
  if (lastError !== null) {
    throw new AgentError(
      AgentErrorCode.BlobFetch,
      `blob ${id}: gave up after ${limits.attempts} attempts (${fetched} bytes read): ${errorMessage(lastError)}`,
    );
  }
  const actual = hash.digest('hex');
  if (actual !== expected.hex) {
    throw new AgentError(
      AgentErrorCode.DigestMismatch,
      `blob ${id}: ${expected.algorithm} is ${actual}, expected ${expected.hex}`,
    );
  }
  return { size: done, fetched };
}

/** A hash over the bytes already in `file` (none when it does not exist). */
async function hashFile(
  file: string,
  algorithm: string,
  signal: AbortSignal,
): Promise<{ hash: Hash; size: number }> {
  const hash = createHash(algorithm);
  let size = 0;
  try {
    for await (const chunk of createReadStream(file, { signal })) {
      hash.update(chunk as Buffer);
      size += (chunk as Buffer).length;
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  return { hash, size };
}
