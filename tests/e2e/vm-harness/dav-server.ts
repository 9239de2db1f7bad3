import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, stat, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';

/** `<hh>/<id>`: hh = first byte of sha1(id) in hex (reference §3.6). */
function davPath(id: string): string {
  return `${createHash('sha1').update(id).digest('hex').slice(0, 2)}/${id}`;
}

/** A tiny BOSH `dav` blobstore on 127.0.0.1 (GET/HEAD/PUT with basic auth) over a directory. */
export class DavServer {
  readonly user = 'agent';
  readonly password = randomBytes(12).toString('hex');
  readonly #server: Server;
  readonly #dir: string;
  port = 0;

  constructor(dir: string) {
    this.#dir = dir;
    this.#server = createServer((req, res) => {
      const expected = `Basic ${Buffer.from(`${this.user}:${this.password}`).toString('base64')}`;
      if (req.headers.authorization !== expected) {
        res.writeHead(401).end('unauthorized');
        return;
      }
      const path = (req.url ?? '').replace(/^\/+/, '');
      if (!/^[0-9a-f]{2}\/[A-Za-z0-9._-]+$/.test(path)) {
        res.writeHead(404).end();
        return;
      }
      const file = join(this.#dir, path);
      void (async () => {
        try {
          if (req.method === 'PUT') {
            await mkdir(join(this.#dir, path.slice(0, 2)), { recursive: true });
            await pipeline(req, createWriteStream(`${file}.part`));
            await rename(`${file}.part`, file);
            res.writeHead(201).end();
            return;
          }
          const { size } = await stat(file);
          res.writeHead(200, { 'content-length': size });
          if (req.method === 'HEAD') res.end();
          else await pipeline(createReadStream(file), res);
        } catch {
          if (!res.headersSent) res.writeHead(404).end();
          else res.destroy();
        }
      })();
    });
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    const address = this.#server.address();
    this.port = typeof address === 'object' && address ? address.port : 0;
  }

  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Blobstore settings as the agent gets them (provider dav). */
  get blobstoreSettings(): { provider: 'dav'; options: Record<string, string> } {
    return {
      provider: 'dav',
      options: { endpoint: this.endpoint, user: this.user, password: this.password },
    };
  }

  async put(id: string, content: Buffer): Promise<{ blobstore_id: string; sha1: string }> {
    await mkdir(join(this.#dir, davPath(id).slice(0, 2)), { recursive: true });
    await writeFile(join(this.#dir, davPath(id)), content);
    return { blobstore_id: id, sha1: createHash('sha1').update(content).digest('hex') };
  }

  async stop(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise((r) => this.#server.close(r));
  }
}
