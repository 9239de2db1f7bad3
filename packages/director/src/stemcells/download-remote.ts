import { createWriteStream } from 'node:fs';
import { get as httpGet, type IncomingMessage } from 'node:http';
import { get as httpsGet } from 'node:https';
import { pipeline } from 'node:stream/promises';
import { DigestingStream } from '@refit/archive';
import type { DigestAlgorithm } from '@refit/protocol';
import { ResourceNotFound } from '../errors.ts';
import type { TaskLog } from '../tasks/task-context.ts';
import { RemoteDownloadFailed } from './upload-errors.ts';

const MAX_REDIRECTS = 9;

export interface DownloadOptions {
  /** `stemcell` or `rootfs`: named in messages as BOSH does (`No stemcell found at '…'`). */
  readonly what: string;
  readonly url: string;
  readonly file: string;
  /** Digests computed while the bytes are written, in the same pass. */
  readonly algorithms: readonly DigestAlgorithm[];
  readonly signal: AbortSignal;
  readonly debug: TaskLog;
  readonly onProgress?: (received: number, total: number | null) => void;
}

export interface Downloaded {
  readonly size: number;
  readonly digests: ReadonlyMap<DigestAlgorithm, string>;
}

/**
 * GETs `url` (http or https, following up to 9 redirects as BOSH's director does) into `file`,
 * hashing on the way: the download and the digest are one pass over the bytes, and the file is
 * never held in memory.
 */
export async function downloadRemote(options: DownloadOptions): Promise<Downloaded> {
  let url = options.url;
  for (let redirects = 0; ; redirects += 1) {
    options.debug.write(`Downloading remote ${options.what} from ${url}\n`);
    const response = await request(url, options);
    const status = response.statusCode ?? 0;
    if (status >= 300 && status < 400 && status !== 304) {
      response.resume();
      if (redirects >= MAX_REDIRECTS) throw new RemoteDownloadFailed(`Too many redirects at '${url}'.`);
      const location = response.headers.location;
      if (!location) throw new RemoteDownloadFailed(`No location header for redirect found at '${url}'.`);
      url = new URL(location, url).toString();
      continue;
    }
    if (status === 404) {
      response.resume();
      throw new ResourceNotFound(`No ${options.what} found at '${url}'.`);
    }
    if (status < 200 || status >= 300) {
      response.resume();
      options.debug.write(`Downloading remote ${options.what} from ${url} failed: HTTP ${status}\n`);
      throw new RemoteDownloadFailed(
        `Downloading remote ${options.what} failed: ${url} answered HTTP ${status}.`,
      );
    }
    return save(response, options);
  }
}

function request(url: string, options: DownloadOptions): Promise<IncomingMessage> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (error) {
    return Promise.reject(new RemoteDownloadFailed(`'${url}' is not a valid URL.`, { cause: error }));
  }
  const get = parsed.protocol === 'https:' ? httpsGet : parsed.protocol === 'http:' ? httpGet : null;
  if (!get) {
    return Promise.reject(
      new RemoteDownloadFailed(`Cannot download '${url}': only http and https are supported.`),
    );
  }
  return new Promise((resolve, reject) => {
    const req = get(parsed, { signal: options.signal }, resolve);
    req.on('error', (error) => {
      if (options.signal.aborted) return reject(options.signal.reason as Error);
      options.debug.write(`Downloading remote ${options.what} from ${url} failed: ${error.message}\n`);
      reject(
        new RemoteDownloadFailed(`Downloading remote ${options.what} failed: ${error.message}.`, {
          cause: error,
        }),
      );
    });
  });
}

async function save(response: IncomingMessage, options: DownloadOptions): Promise<Downloaded> {
  const lengthHeader = response.headers['content-length'];
  const total = lengthHeader === undefined ? null : Number(lengthHeader);
  const hasher = new DigestingStream(options.algorithms);
  let received = 0;
  if (options.onProgress) {
    const onProgress = options.onProgress;
    hasher.on('data', (chunk: Buffer) => {
      received += chunk.length;
      onProgress(received, total);
    });
  }
  try {
    await pipeline(response, hasher, createWriteStream(options.file, { flags: 'wx' }), {
      signal: options.signal,
    });
  } catch (error) {
    if (options.signal.aborted) throw error;
    throw new RemoteDownloadFailed(
      `Downloading remote ${options.what} failed: ${(error as Error).message}.`,
      {
        cause: error,
      },
    );
  }
  const { size, digests } = hasher.result();
  if (total !== null && size !== total) {
    throw new RemoteDownloadFailed(
      `Downloading remote ${options.what} failed: got ${size} bytes, the server announced ${total}.`,
    );
  }
  const found = new Map<DigestAlgorithm, string>();
  for (const algorithm of options.algorithms) {
    const hex = digests[algorithm];
    if (hex !== undefined) found.set(algorithm, hex);
  }
  return { size, digests: found };
}
