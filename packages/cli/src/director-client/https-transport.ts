import { Agent, request as httpsRequest } from 'node:https';
import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { DirectorTransportError } from './errors.ts';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

export type RequestBody =
  | { readonly kind: 'bytes'; readonly contentType: string; readonly data: string | Buffer }
  /** Streamed with Content-Length; `open` is called again for a retry. */
  | {
      readonly kind: 'stream';
      readonly contentType: string;
      readonly length: number;
      readonly open: () => Readable;
    };

export interface TransportRequest {
  readonly method: HttpMethod;
  /** Path and query, e.g. `/tasks?limit=5`. */
  readonly path: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: RequestBody;
  readonly signal?: AbortSignal;
}

export interface TransportResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

export interface TransportOptions {
  readonly baseUrl: URL;
  readonly caCert?: string;
  readonly credentials?: { readonly client: string; readonly clientSecret: string };
  /** Attempts for transport errors (and 502/503/504 on GET): the stock CLI makes 5, 500 ms apart. */
  readonly attempts?: number;
  readonly retryDelayMs?: number;
}

/** TLS verification failures: retrying cannot help, so they fail at once. */
const tlsErrorCodes = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'ERR_SSL_WRONG_VERSION_NUMBER',
]);

/** HTTPS to one director: CA pinning, basic auth, the stock CLI's retries. Buffers answers. */
export class HttpsTransport {
  readonly baseUrl: URL;
  private readonly agent: Agent;
  private readonly authorization: string | undefined;
  private readonly attempts: number;
  private readonly retryDelayMs: number;

  constructor(options: TransportOptions) {
    this.baseUrl = options.baseUrl;
    this.agent = new Agent({
      keepAlive: true,
      ...(options.caCert === undefined ? {} : { ca: options.caCert }),
    });
    this.authorization =
      options.credentials === undefined
        ? undefined
        : `Basic ${Buffer.from(`${options.credentials.client}:${options.credentials.clientSecret}`).toString('base64')}`;
    this.attempts = options.attempts ?? 5;
    this.retryDelayMs = options.retryDelayMs ?? 500;
  }

  get hasCredentials(): boolean {
    return this.authorization !== undefined;
  }

  async request(req: TransportRequest): Promise<TransportResponse> {
    for (let attempt = 1; ; attempt += 1) {
      req.signal?.throwIfAborted();
      try {
        const response = await this.once(req);
        const retryable = req.method === 'GET' && [502, 503, 504].includes(response.status);
        if (!retryable || attempt >= this.attempts) return response;
      } catch (error) {
        if (req.signal?.aborted === true) throw req.signal.reason;
        const code = (error as NodeJS.ErrnoException).code ?? '';
        if (tlsErrorCodes.has(code) || attempt >= this.attempts) {
          throw new DirectorTransportError(
            `Performing request ${req.method} '${this.baseUrl.origin}${req.path}': ${(error as Error).message}`,
            { cause: error },
          );
        }
      }
      await sleep(this.retryDelayMs, undefined, req.signal === undefined ? {} : { signal: req.signal });
    }
  }

  /** Frees kept-alive sockets so the process can exit. */
  close(): void {
    this.agent.destroy();
  }

  private once(req: TransportRequest): Promise<TransportResponse> {
    const headers: Record<string, string> = { ...req.headers };
    if (this.authorization !== undefined) headers['authorization'] = this.authorization;
    if (req.body !== undefined) {
      headers['content-type'] = req.body.contentType;
      headers['content-length'] = String(
        req.body.kind === 'stream' ? req.body.length : Buffer.byteLength(req.body.data),
      );
    }
    return new Promise<TransportResponse>((resolve, reject) => {
      const outgoing = httpsRequest(
        {
          protocol: 'https:',
          hostname: this.baseUrl.hostname.replace(/^\[|\]$/g, ''),
          port: this.baseUrl.port,
          method: req.method,
          path: req.path,
          headers,
          agent: this.agent,
          ...(req.signal === undefined ? {} : { signal: req.signal }),
        },
        (incoming) => {
          const chunks: Buffer[] = [];
          incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
          incoming.on('error', reject);
          incoming.on('end', () =>
            resolve({
              status: incoming.statusCode ?? 0,
              headers: incoming.headers,
              body: Buffer.concat(chunks),
            }),
          );
        },
      );
      outgoing.on('error', reject);
      const body = req.body;
      if (body === undefined) outgoing.end();
      else if (body.kind === 'bytes') outgoing.end(body.data);
      else {
        const source = body.open();
        source.on('error', (error) => outgoing.destroy(error));
        source.pipe(outgoing);
      }
    });
  }
}
