import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A small dav blobstore on 127.0.0.1 for tests: GET/PUT /<hh>/<id> with basic auth, like BOSH's. */
export interface DavServer {
  readonly endpoint: string;
  readonly blobs: Map<string, Buffer>;
  readonly requests: string[];
  close(): Promise<void>;
}

export async function startDavServer(options: {
  user: string;
  password: string;
  tls?: { key: string; cert: string };
}): Promise<DavServer> {
  const blobs = new Map<string, Buffer>();
  const requests: string[] = [];
  const expected = `Basic ${Buffer.from(`${options.user}:${options.password}`).toString('base64')}`;
  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    const url = new URL(req.url ?? '/', 'http://x');
    requests.push(`${req.method} ${url.pathname}${url.search}`);
    if (url.pathname.startsWith('/signed/')) {
      const id = url.pathname.slice('/signed/'.length);
      const blob = blobs.get(id);
      if (url.searchParams.get('sig') !== 'ok' || blob === undefined) {
        res.writeHead(403).end('bad signature');
        return;
      }
      res.writeHead(200).end(blob);
      return;
    }
    if (req.headers.authorization !== expected) {
      res.writeHead(401).end('unauthorized');
      return;
    }
    const m = /^\/([0-9a-f]{2})\/([^/]+)$/.exec(url.pathname);
    const id = m?.[2];
    if (!m || id === undefined || createHash('sha1').update(id).digest('hex').slice(0, 2) !== m[1]) {
      res.writeHead(404).end('no such path');
      return;
    }
    if (req.method === 'GET') {
      const blob = blobs.get(id);
      if (blob === undefined) res.writeHead(404).end('not found');
      else res.writeHead(200, { 'content-length': blob.length }).end(blob);
    } else if (req.method === 'PUT') {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        blobs.set(id, Buffer.concat(chunks));
        res.writeHead(201).end();
      });
    } else {
      res.writeHead(405).end();
    }
  };
  const server: Server = options.tls ? createHttpsServer(options.tls, handler) : createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    blobs,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
