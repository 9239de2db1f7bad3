import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

/*
 * Test support: a real HTTPS server on 127.0.0.1 with a throwaway certificate (made by openssl,
 * IP SAN 127.0.0.1), answering canned routes and recording every request it got.
 */

export interface RecordedRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: Buffer;
}

/** A route handler; what it returns is ignored (a promise is awaited for its errors). */
export type Handler = (req: RecordedRequest, res: ServerResponse) => unknown;

export interface LocalHttpsServer {
  readonly url: string;
  readonly caCert: string;
  readonly requests: RecordedRequest[];
  /** Routes by `METHOD /path` (query ignored); unmatched requests get 404. */
  route(key: string, handler: Handler): void;
  close(): Promise<void>;
}

export async function makeThrowawayCert(): Promise<{ key: string; cert: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'refit-cli-cert-'));
  try {
    await promisify(execFile)('openssl', [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=refit-cli-test',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
      '-keyout',
      join(dir, 'key.pem'),
      '-out',
      join(dir, 'cert.pem'),
    ]);
    return {
      key: await readFile(join(dir, 'key.pem'), 'utf8'),
      cert: await readFile(join(dir, 'cert.pem'), 'utf8'),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export async function startLocalHttpsServer(): Promise<LocalHttpsServer> {
  const { key, cert } = await makeThrowawayCert();
  const routes = new Map<string, Handler>();
  const requests: RecordedRequest[] = [];
  const server: Server = createServer({ key, cert }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const recorded: RecordedRequest = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks),
      };
      requests.push(recorded);
      const path = recorded.url.split('?')[0] ?? '';
      const handler = routes.get(`${recorded.method} ${path}`);
      if (handler === undefined) {
        res.writeHead(404).end(`Endpoint '${path}' not found.`);
        return;
      }
      Promise.resolve(handler(recorded, res)).catch((error: unknown) => {
        res.writeHead(500).end(String(error));
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `https://127.0.0.1:${port}`,
    caCert: cert,
    requests,
    route: (routeKey, handler) => routes.set(routeKey, handler),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Answers JSON with a status (200 by default). */
export const json =
  (body: unknown, status = 200): Handler =>
  (_req, res) => {
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  };

/** Answers `302 Location: /tasks/<id>`, as a director does for a long operation. */
export const redirectToTask =
  (id: number): Handler =>
  (_req, res) => {
    res.writeHead(302, { location: `/tasks/${id}` }).end();
  };
