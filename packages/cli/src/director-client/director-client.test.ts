import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  json,
  redirectToTask,
  startLocalHttpsServer,
  type LocalHttpsServer,
} from '../testing/local-https-server.ts';
import { DirectorClient } from './director-client.ts';
import { DirectorResponseError, DirectorTransportError } from './errors.ts';
import { HttpsTransport } from './https-transport.ts';
import { getInfo } from './info.ts';
import { deleteStemcell, listStemcells, uploadStemcell } from './stemcells.ts';
import { fileUploadBody } from './upload-body.ts';

const signal = () => AbortSignal.timeout(10_000);

describe('DirectorClient (real HTTPS)', () => {
  let server: LocalHttpsServer;
  let client: DirectorClient;
  let dir: string;
  before(async () => {
    server = await startLocalHttpsServer();
    client = new DirectorClient(
      new HttpsTransport({
        baseUrl: new URL(server.url),
        caCert: server.caCert,
        credentials: { client: 'admin', clientSecret: 'pw' },
        retryDelayMs: 5,
      }),
    );
    dir = await mkdtemp(join(tmpdir(), 'refit-cli-client-'));
  });
  after(async () => {
    client.close();
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('sends basic auth and reads the task id from a 302 Location', async () => {
    server.route('DELETE /stemcells/s/1.2', redirectToTask(31));
    assert.equal(await deleteStemcell(client, { name: 's', version: '1.2' }, true, signal()), 31);
    const request = server.requests.at(-1);
    assert.equal(request?.url, '/stemcells/s/1.2?force=true');
    assert.equal(request?.headers.authorization, `Basic ${Buffer.from('admin:pw').toString('base64')}`);
  });

  it('follows a 302 that is not /tasks/<id> with a GET and reads the task from it', async () => {
    server.route('DELETE /stemcells/s/2', (_req, res) =>
      res.writeHead(302, { location: '/elsewhere' }).end(),
    );
    server.route('GET /elsewhere', json({ id: 44, state: 'queued' }));
    assert.equal(await deleteStemcell(client, { name: 's', version: '2' }, false, signal()), 44);
  });

  it('turns {"code","description"} bodies into typed errors with the stock message', async () => {
    server.route('GET /stemcells', json({ code: 50003, description: "Stemcell 'x' doesn't exist" }, 404));
    await assert.rejects(listStemcells(client, signal()), (error: unknown) => {
      assert.ok(error instanceof DirectorResponseError);
      assert.equal(error.status, 404);
      assert.equal(error.directorCode, 50003);
      assert.equal(error.description, "Stemcell 'x' doesn't exist");
      assert.match(
        error.message,
        /^Director responded with non-successful status code '404' response '\{"code":50003/,
      );
      return true;
    });
  });

  it('reads /stemcells leniently (nulls, missing fields, rootfs) but refuses an empty version', async () => {
    server.route(
      'GET /stemcells',
      json([
        {
          name: 's',
          version: '1',
          operating_system: 'jammy',
          cid: null,
          deployments: [{ name: 'd' }],
          rootfs: { version: '1', sha256: 'x', size: 3 },
        },
        { version: '2' },
      ]),
    );
    assert.deepEqual(await listStemcells(client, signal()), [
      {
        name: 's',
        version: '1',
        operatingSystem: 'jammy',
        cpi: '',
        cid: '',
        deployed: true,
        rootfsVersion: '1',
      },
      {
        name: '',
        version: '2',
        operatingSystem: '',
        cpi: '',
        cid: '',
        deployed: false,
        rootfsVersion: undefined,
      },
    ]);
    server.route('GET /stemcells', json([{ name: 's', version: '' }]));
    await assert.rejects(listStemcells(client, signal()), /Expected version to be non-empty string/);
  });

  it('streams an upload with Content-Length and reports progress to the last byte', async () => {
    const path = join(dir, 'big.tgz');
    const content = Buffer.alloc(3 * 1024 * 1024 + 7, 0x61);
    await writeFile(path, content);
    server.route('POST /stemcells', redirectToTask(12));
    const progress: number[] = [];
    const body = await fileUploadBody(path, (sent) => progress.push(sent));
    assert.equal(await uploadStemcell(client, body, true, signal()), 12);
    const request = server.requests.at(-1);
    assert.equal(request?.url, '/stemcells?fix=true');
    assert.equal(request?.headers['content-type'], 'application/x-compressed');
    assert.equal(request?.headers['content-length'], String(content.length));
    assert.ok(request?.body.equals(content));
    assert.equal(progress.at(-1), content.length);
    assert.ok(progress.length > 2);
  });

  it('retries transport errors, then succeeds', async () => {
    let calls = 0;
    server.route('GET /info', (req, res) => {
      calls += 1;
      if (calls < 3) {
        res.socket?.destroy();
        return;
      }
      void json({ name: 'refit', user: 'admin', user_authentication: { type: 'basic' } })(req, res);
    });
    const info = await getInfo(client, signal());
    assert.equal(info.user, 'admin');
    assert.equal(calls, 3);
  });

  it('gives up after 5 attempts on a dead port, and fails at once on an untrusted certificate', async () => {
    const dead: Server = createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => dead.listen(0, '127.0.0.1', resolve));
    const port = (dead.address() as { port: number }).port;
    let accepted = 0;
    dead.on('connection', () => (accepted += 1));
    const toDead = new DirectorClient(
      new HttpsTransport({ baseUrl: new URL(`https://127.0.0.1:${port}`), retryDelayMs: 5 }),
    );
    await assert.rejects(getInfo(toDead, signal()), DirectorTransportError);
    assert.equal(accepted, 5);
    toDead.close();
    await new Promise<void>((resolve) => dead.close(() => resolve()));

    const untrusting = new DirectorClient(
      new HttpsTransport({ baseUrl: new URL(server.url), retryDelayMs: 5 }),
    );
    const before = server.requests.length;
    await assert.rejects(getInfo(untrusting, signal()), /self-signed certificate/);
    assert.equal(server.requests.length, before);
    untrusting.close();
  });
});
