import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { z } from 'zod';
import { MultiDigest, strongestDigest, type BlobstoreSettings, type UploadedBlob } from '@refit/protocol';
import { AgentError, AgentErrorCode } from '../errors.ts';
import type { BlobSource } from './blob-source.ts';
import { DavBlobSource, DavOptions } from './dav-blob-source.ts';
import { drain, httpCall, redact } from './http-request.ts';
import { LocalBlobSource, LocalOptions } from './local-blob-source.ts';

/** A blob to fetch: its id and multi-digest, and a signed URL when the director gave one. */
export interface BlobToFetch {
  readonly blobstoreId: string;
  readonly digest: string;
  readonly signedUrl?: string | undefined;
  readonly headers?: Readonly<Record<string, string>> | undefined;
}

export interface AgentBlobstore {
  /**
   * Downloads a blob to `dest`, verifying the strongest algorithm of its multi-digest while it
   * streams. On a mismatch the file is removed and a DigestMismatch error thrown: nothing
   * downstream ever sees unverified bytes.
   */
  fetch(blob: BlobToFetch, dest: string, signal: AbortSignal): Promise<void>;
  /** Uploads a file under a new id; answers the id and the file's sha1. */
  upload(file: string, signal: AbortSignal): Promise<UploadedBlob>;
}

export function blobSourceFor(
  settings: BlobstoreSettings,
): BlobSource & { readonly ca?: string | undefined } {
  switch (settings.provider) {
    case 'dav':
      return new DavBlobSource(parseOptions(DavOptions, settings));
    case 'local':
      return new LocalBlobSource(parseOptions(LocalOptions, settings).blobstore_path);
    default:
      throw new AgentError(
        AgentErrorCode.Settings,
        `blobstore provider '${settings.provider}' is not supported (dav, local)`,
      );
  }
}

function parseOptions<T>(schema: z.ZodType<T>, settings: BlobstoreSettings): T {
  const parsed = schema.safeParse(settings.options);
  if (!parsed.success) {
    throw new AgentError(
      AgentErrorCode.Settings,
      `blobstore '${settings.provider}' options are invalid: ${z.prettifyError(parsed.error)}`,
    );
  }
  return parsed.data;
}

function hashingStream(hash: ReturnType<typeof createHash>): Transform {
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      callback(null, chunk);
    },
  });
}

export async function sha1OfFile(file: string): Promise<string> {
  const hash = createHash('sha1');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Builds the agent's blobstore from the current settings each time (update_settings may change them). */
export function settingsBlobstore(current: () => BlobstoreSettings): AgentBlobstore {
  return {
    async fetch(blob, dest, signal) {
      const parsed = MultiDigest.safeParse(blob.digest);
      if (!parsed.success) {
        throw new AgentError(
          AgentErrorCode.DigestMismatch,
          `blob ${blob.blobstoreId}: digest '${blob.digest}' is not a valid multi-digest`,
        );
      }
      const expected = strongestDigest(parsed.data);
      const source = blobSourceFor(current());
      let stream;
      if (blob.signedUrl !== undefined) {
        const url = new URL(blob.signedUrl);
        const response = await httpCall({
          method: 'GET',
          url: blob.signedUrl,
          headers: { ...blob.headers },
          signal,
          ...(source.ca ? { ca: source.ca } : {}),
        });
        if (response.statusCode !== 200) {
          const body = await drain(response);
          throw new AgentError(
            AgentErrorCode.BlobFetch,
            `GET ${redact(url)}: HTTP ${response.statusCode} ${body}`.trim(),
          );
        }
        stream = response;
      } else {
        stream = await source.get(blob.blobstoreId, signal);
      }
      const hash = createHash(expected.algorithm);
      await mkdir(dirname(dest), { recursive: true });
      try {
        await pipeline(stream, hashingStream(hash), createWriteStream(dest), { signal });
      } catch (cause) {
        await rm(dest, { force: true });
        throw new AgentError(AgentErrorCode.BlobFetch, `downloading blob ${blob.blobstoreId} failed`, {
          cause,
        });
      }
      const actual = hash.digest('hex');
      if (actual !== expected.hex) {
        await rm(dest, { force: true });
        throw new AgentError(
          AgentErrorCode.DigestMismatch,
          `blob ${blob.blobstoreId}: ${expected.algorithm} digest mismatch (expected ${expected.hex}, got ${actual})`,
        );
      }
    },

    async upload(file, signal) {
      const source = blobSourceFor(current());
      const id = randomUUID();
      const sha1 = await sha1OfFile(file);
      const { size } = await stat(file);
      await source.put(id, () => createReadStream(file), size, signal);
      return { blobstore_id: id, sha1 };
    },
  };
}
