import { request } from 'node:https';
import type { IncomingHttpHeaders } from 'node:http';

export interface TestResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  readonly text: string;
  json<T = unknown>(): T;
}

/**
 * A tiny HTTPS client for tests: verifies the server against `ca` (so a test proves the
 * certificate chain and SAN), never follows redirects, times out after `timeoutMs`.
 */
export function httpsRequest(options: {
  readonly port: number;
  readonly ca: string;
  readonly method?: string;
  readonly path: string;
  readonly host?: string;
  readonly auth?: { readonly client: string; readonly secret: string };
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string | Buffer;
  readonly timeoutMs?: number;
}): Promise<TestResponse> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.auth !== undefined) {
    headers.Authorization = `Basic ${Buffer.from(`${options.auth.client}:${options.auth.secret}`).toString('base64')}`;
  }
  if (options.body !== undefined) headers['Content-Length'] = String(Buffer.byteLength(options.body));
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        servername: options.host === undefined ? undefined : options.host,
        port: options.port,
        method: options.method ?? 'GET',
        path: options.path,
        ca: options.ca,
        headers,
        agent: false,
        timeout: options.timeoutMs ?? 15_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const body = Buffer.concat(chunks);
          const text = body.toString('utf8');
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body,
            text,
            json: <T>() => JSON.parse(text) as T,
          });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`request ${options.path} timed out`)));
    req.on('error', reject);
    req.end(options.body);
  });
}
