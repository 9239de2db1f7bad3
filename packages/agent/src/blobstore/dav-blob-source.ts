import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { z } from 'zod';
import { AgentError, AgentErrorCode } from '../errors.ts';
import type { BlobSource } from './blob-source.ts';
import { drain, httpCall, redact } from './http-request.ts';

export const DavOptions = z
  .object({
    endpoint: z.string().url(),
    user: z.string().optional(),
    password: z.string().optional(),
    tls: z
      .object({ cert: z.object({ ca: z.string().optional() }).passthrough().optional() })
      .passthrough()
      .optional(),
  })
  .passthrough();
export type DavOptions = z.infer<typeof DavOptions>;

/** `<hh>/<id>`, hh = the first byte of sha1(id) in hex (reference §3.6). */
export function davPath(id: string): string {
  return `${createHash('sha1').update(id).digest('hex').slice(0, 2)}/${id}`;
}

/** BOSH's `dav` blobstore: GET/PUT `<endpoint>/<hh>/<id>` with basic auth. */
export class DavBlobSource implements BlobSource {
  readonly #options: DavOptions;
  constructor(options: DavOptions) {
    this.#options = options;
  }

  get ca(): string | undefined {
    return this.#options.tls?.cert?.ca;
  }

  #url(id: string): string {
    return `${this.#options.endpoint.replace(/\/+$/, '')}/${davPath(id)}`;
  }

  #auth(): Record<string, string> {
    const { user, password } = this.#options;
    if (user === undefined) return {};
    return { authorization: `Basic ${Buffer.from(`${user}:${password ?? ''}`).toString('base64')}` };
  }

  async get(id: string, signal: AbortSignal): Promise<Readable> {
    const url = this.#url(id);
    const ca = this.ca;
    const response = await httpCall({
      method: 'GET',
      url,
      headers: this.#auth(),
      signal,
      ...(ca ? { ca } : {}),
    });
    if (response.statusCode !== 200) {
      const body = await drain(response);
      throw new AgentError(
        AgentErrorCode.BlobFetch,
        `GET ${redact(new URL(url))}: HTTP ${response.statusCode} ${body.trim()}`.trim(),
      );
    }
    return response;
  }

  async put(id: string, body: () => Readable, size: number, signal: AbortSignal): Promise<void> {
    const url = this.#url(id);
    const ca = this.ca;
    const response = await httpCall({
      method: 'PUT',
      url,
      headers: { ...this.#auth(), 'content-length': size, 'content-type': 'application/octet-stream' },
      body: body(),
      signal,
      ...(ca ? { ca } : {}),
    });
    const text = await drain(response);
    if (response.statusCode !== 201 && response.statusCode !== 204 && response.statusCode !== 200) {
      throw new AgentError(
        AgentErrorCode.BlobUpload,
        `PUT ${redact(new URL(url))}: HTTP ${response.statusCode} ${text.trim()}`.trim(),
      );
    }
  }
}
