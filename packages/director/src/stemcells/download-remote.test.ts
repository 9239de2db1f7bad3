import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ResourceNotFound } from '../errors.ts';
import { downloadRemote } from './download-remote.ts';
import { RemoteDownloadFailed } from './upload-errors.ts';

const body = Buffer.alloc(300_000, 'stemcell bytes ');

describe('downloadRemote', () => {
  let server: Server;
  let base: string;
  let dir: string;
  const debug = {
    lines: [] as string[],
    write(text: string) {
      this.lines.push(text);
    },
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'refit-download-'));
    server = createServer((req, res) => {
      if (req.url === '/file') {
        res.writeHead(200, { 'content-length': String(body.length) });
        res.end(body);
      } else if (req.url === '/moved') {
        res.writeHead(302, { location: '/file' });
        res.end();
      } else if (req.url === '/loop') {
        res.writeHead(302, { location: '/loop' });
        res.end();
      } else if (req.url === '/short') {
        res.writeHead(200, { 'content-length': String(body.length) });
        res.write(body.subarray(0, 1000));
        res.destroy();
      } else if (req.url === '/broken') {
        res.writeHead(500);
        res.end();
      } else {
        res.writeHead(404);
        res.end();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    await new Promise((resolve) => server.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });

  let n = 0;
  const fetch = (path: string) =>
    downloadRemote({
      what: 'stemcell',
      url: `${base}${path}`,
      file: join(dir, `f${(n += 1)}`),
      algorithms: ['sha1', 'sha256'],
      signal: AbortSignal.timeout(10_000),
      debug,
    });

  it('writes the file and computes its digests in the same pass, following redirects', async () => {
    const got = await fetch('/moved');
    assert.equal(got.size, body.length);
    assert.equal(got.digests.get('sha256'), createHash('sha256').update(body).digest('hex'));
    assert.equal(got.digests.get('sha1'), createHash('sha1').update(body).digest('hex'));
    assert.deepEqual(await readFile(join(dir, `f${n}`)), body);
  });

  it('answers 404 as BOSH does, and other failures as download errors', async () => {
    await assert.rejects(
      fetch('/nothing'),
      (e: unknown) => e instanceof ResourceNotFound && /No stemcell found at/.test(e.message),
    );
    await assert.rejects(fetch('/broken'), RemoteDownloadFailed);
    await assert.rejects(fetch('/loop'), /Too many redirects/);
    await assert.rejects(fetch('/short'), RemoteDownloadFailed);
  });

  it('refuses schemes other than http and https', async () => {
    await assert.rejects(
      downloadRemote({
        what: 'rootfs',
        url: 'file:///etc/passwd',
        file: join(dir, 'x'),
        algorithms: [],
        signal: AbortSignal.timeout(1000),
        debug,
      }),
      /only http and https/,
    );
  });
});
