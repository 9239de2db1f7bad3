import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { createTlsMaterial } from '@refit/director/api/tls-material.ts';
import type { HmDeploymentListItem, HmInstanceListItem } from '@refit/protocol';

/**
 * A real local HTTPS server answering the few director routes the monitor reads, for tests and
 * the benchmark (reference §1.8, §1.9, §1.11, §1.3 shapes). State is plain data tests change.
 */
export class DirectorStandIn {
  deployments: HmDeploymentListItem[] = [];
  instances = new Map<string, HmInstanceListItem[]>();
  tasks: Array<{ id: number; state: string; description: string; deployment: string }> = [];
  /** Every scan_and_fix body received, with its deployment. */
  readonly scanAndFix: Array<{ deployment: string; body: unknown }> = [];
  /** When set, scan_and_fix is refused with this status and body. */
  refuseScanAndFix: { status: number; body: string } | null = null;
  resurrectionConfig: string | null = null;
  resurrectionPaused = false;
  /** When true, every request is answered 503 (a director that is down behind its port). */
  down = false;
  requests = 0;
  readonly caPem: string;
  readonly user = 'admin';
  readonly password = 'stand-in-secret';
  readonly #server: Server;
  #nextTask = 1;

  private constructor(server: Server, caPem: string) {
    this.#server = server;
    this.caPem = caPem;
  }

  get url(): string {
    return `https://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  static async start(): Promise<DirectorStandIn> {
    const tls = await createTlsMaterial();
    const server = createServer({ cert: tls.certPem, key: tls.keyPem });
    const standIn = new DirectorStandIn(server, tls.caPem);
    server.on('request', (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        standIn.requests += 1;
        const reply = standIn.#answer(
          req.method ?? 'GET',
          new URL(req.url ?? '/', 'https://x'),
          req.headers.authorization,
          Buffer.concat(chunks).toString('utf8'),
        );
        res.writeHead(reply.status, reply.headers ?? { 'content-type': 'application/json' });
        res.end(reply.body);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return standIn;
  }

  #answer(
    method: string,
    url: URL,
    auth: string | undefined,
    body: string,
  ): { status: number; body: string; headers?: Record<string, string> } {
    if (this.down) return { status: 503, body: '' };
    const json = (value: unknown) => ({ status: 200, body: JSON.stringify(value) });
    if (auth !== `Basic ${Buffer.from(`${this.user}:${this.password}`).toString('base64')}`) {
      return { status: 401, body: `Not authorized: '${url.pathname}'\n` };
    }
    const path = url.pathname;
    if (method === 'GET' && path === '/deployments') return json(this.deployments);
    let match = /^\/deployments\/([^/]+)\/instances$/.exec(path);
    if (method === 'GET' && match?.[1] !== undefined) {
      const list = this.instances.get(decodeURIComponent(match[1]));
      return list
        ? json(list)
        : {
            status: 404,
            body: JSON.stringify({ code: 70000, description: `Deployment '${match[1]}' doesn't exist` }),
          };
    }
    if (method === 'GET' && path === '/tasks') {
      const deployment = url.searchParams.get('deployment');
      const states = (url.searchParams.get('state') ?? '').split(',');
      return json(this.tasks.filter((t) => t.deployment === deployment && states.includes(t.state)));
    }
    match = /^\/deployments\/([^/]+)\/scan_and_fix$/.exec(path);
    if (method === 'PUT' && match?.[1] !== undefined) {
      const deployment = decodeURIComponent(match[1]);
      this.scanAndFix.push({ deployment, body: JSON.parse(body) });
      if (this.refuseScanAndFix) return { ...this.refuseScanAndFix };
      const id = this.#nextTask++;
      this.tasks.push({ id, state: 'queued', description: 'scan and fix', deployment });
      return { status: 302, body: '', headers: { location: `/tasks/${id}` } };
    }
    if (method === 'GET' && path === '/resurrection')
      return json({ resurrection_paused: this.resurrectionPaused });
    if (method === 'GET' && path === '/configs') {
      if (url.searchParams.get('type') !== 'resurrection') return json([]);
      return json(this.resurrectionConfig === null ? [] : [{ id: '1', content: this.resurrectionConfig }]);
    }
    return { status: 404, body: `Endpoint '${path}' not found.` };
  }

  async stop(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
