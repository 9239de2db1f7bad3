import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { copyFile, mkdir, stat } from 'node:fs/promises';
import { createServer, type Server, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** `<hh>/<id>` as agents ask for it (reference §3.6). */
function davPath(id: string): string {
  return `${createHash('sha1').update(id).digest('hex').slice(0, 2)}/${id}`;
}

/**
 * A `dav` blob server on 127.0.0.1 for the OS-reload tests: GET with Range (206, 416), basic
 * auth, and fault knobs: a per-blob throttle (bytes per 10 ms tick) and a one-shot cut of the
 * connection after some bytes. Every GET is logged with its Range header.
 */
export class ReloadBlobServer {
  readonly user = 'agent';
  readonly password = randomBytes(12).toString('hex');
  readonly requests: { id: string; range: string | null; status: number }[] = [];
  readonly throttle = new Map<string, number>();
  readonly cutAfter = new Map<string, number>();
  readonly #dir: string;
  readonly #server: Server;
  port = 0;

  constructor(dir: string) {
    this.#dir = dir;
    this.#server = createServer((req, res) => {
      const auth = `Basic ${Buffer.from(`${this.user}:${this.password}`).toString('base64')}`;
      if (req.headers.authorization !== auth || req.method !== 'GET') {
        res.writeHead(req.method === 'GET' ? 401 : 405).end();
        return;
      }
      const path = (req.url ?? '').replace(/^\/+/, '');
      const id = path.slice(3);
      if (!/^[0-9a-f]{2}\/[A-Za-z0-9._-]+$/.test(path) || davPath(id) !== path) {
        res.writeHead(404).end();
        return;
      }
      void this.#serve(id, req.headers.range ?? null, res).catch(() => res.destroy());
    });
  }

  async #serve(id: string, range: string | null, res: ServerResponse): Promise<void> {
    const file = join(this.#dir, davPath(id));
    const size = await stat(file).then(
      (s) => s.size,
      () => null,
    );
    const log = (status: number) => this.requests.push({ id, range, status });
    if (size === null) {
      log(404);
      res.writeHead(404).end();
      return;
    }
    let start = 0;
    if (range !== null) {
      const m = /^bytes=(\d+)-$/.exec(range);
      start = m?.[1] === undefined ? -1 : Number(m[1]);
      if (start < 0 || start >= size) {
        log(416);
        res.writeHead(416, { 'content-range': `bytes */${size}` }).end();
        return;
      }
      log(206);
      res.writeHead(206, {
        'content-length': size - start,
        'content-range': `bytes ${start}-${size - 1}/${size}`,
      });
    } else {
      log(200);
      res.writeHead(200, { 'content-length': size });
    }
    const cut = this.cutAfter.get(id);
    if (cut !== undefined) this.cutAfter.delete(id);
    let sent = 0;
    for await (const chunk of createReadStream(file, { start, highWaterMark: 64 * 1024 })) {
      const buffer = chunk as Buffer;
      if (cut !== undefined && sent + buffer.length > cut) {
        res.write(buffer.subarray(0, Math.max(0, cut - sent)));
        res.destroy();
        return;
      }
      if (!res.write(buffer)) await new Promise((r) => res.once('drain', r));
      sent += buffer.length;
      const perTick = this.throttle.get(id);
      if (perTick !== undefined) await sleep(Math.ceil((buffer.length / perTick) * 10));
      if (res.destroyed) return;
    }
    res.end();
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    const address = this.#server.address();
    this.port = typeof address === 'object' && address ? address.port : 0;
  }

  get blobstoreSettings(): { provider: 'dav'; options: Record<string, string> } {
    return {
      provider: 'dav',
      options: { endpoint: `http://127.0.0.1:${this.port}`, user: this.user, password: this.password },
    };
  }

  /** Stores a file as blob `id`. */
  async putFile(id: string, file: string): Promise<void> {
    await mkdir(join(this.#dir, davPath(id).slice(0, 2)), { recursive: true });
    await copyFile(file, join(this.#dir, davPath(id)));
  }

  async stop(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise((r) => this.#server.close(r));
  }
}
