import { randomBytes, webcrypto } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';

/*
 * Test support: a real HTTPS server on 127.0.0.1 with a throwaway certificate (IP SAN
 * 127.0.0.1), answering canned routes and recording every request it got.
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

/** A self-signed P-256 certificate for IP 127.0.0.1 (made in-process: no openssl binary needed). */
export async function makeThrowawayCert(): Promise<{ key: string; cert: string }> {
  x509.cryptoProvider.set(webcrypto as never);
  const algorithm = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const keys = await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify']);
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomBytes(8).toString('hex'),
    name: 'CN=refit-cli-test',
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + 24 * 3600_000),
    keys,
    signingAlgorithm: algorithm,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.digitalSignature, true),
      new x509.SubjectAlternativeNameExtension([{ type: 'ip', value: '127.0.0.1' }]),
    ],
  });
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey)).toString('base64');
  const key = `-----BEGIN PRIVATE KEY-----\n${(pkcs8.match(/.{1,64}/g) ?? []).join('\n')}\n-----END PRIVATE KEY-----\n`;
  return { key, cert: certificate.toString('pem') };
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
