import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { davPath } from '../blobstore/dav-blob-source.ts';
import { downloadResumable, type DownloadLimits } from './ranged-download.ts';

const limits: DownloadLimits = { attempts: 4, backoffMs: 5, maxBackoffMs: 20, byteBudgetFactor: 2 };

describe('resumable blob download', () => {
  const blob = randomBytes(300_000);
  const sha256 = createHash('sha256').update(blob).digest('hex');
  let dir: string;
  let server: Server;
  let port = 0;
  const requests: { range: string | null; status: number }[] = [];
  /** Per request: cut the body after this many bytes, or answer this status. */
  let plan: ({ cut: number } | { status: number } | null)[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ranged-'));
    server = createServer((req, res) => {
      if (req.url !== `/${davPath('b1')}`) {
        requests.push({ range: null, status: 404 });
        res.writeHead(404).end();
        return;
      }
      const step = plan.shift() ?? null;
      const range = req.headers.range ?? null;
      if (step !== null && 'status' in step) {
        requests.push({ range, status: step.status });
        res.writeHead(step.status).end('nope');
        return;
      }
      const start = range === null ? 0 : Number(/bytes=(\d+)-/.exec(range)?.[1]);
      const status = range === null ? 200 : 206;
      requests.push({ range, status });
      res.writeHead(status, {
        'content-length': blob.length - start,
        ...(status === 206 ? { 'content-range': `bytes ${start}-${blob.length - 1}/${blob.length}` } : {}),
      });
      if (step !== null) {
        res.write(blob.subarray(start, start + step.cut));
        setTimeout(() => res.destroy(), 5);
      } else res.end(blob.subarray(start));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const address = server.address();
    port = typeof address === 'object' && address ? address.port : 0;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    await rm(dir, { recursive: true, force: true });
  });

  const settings = () => ({ provider: 'dav' as const, options: { endpoint: `http://127.0.0.1:${port}` } });
  const fetch = (dest: string, id = 'b1', hex = sha256) =>
    downloadResumable(
      settings(),
      id,
      { algorithm: 'sha256', hex },
      dest,
      AbortSignal.timeout(10_000),
      () => undefined,
      limits,
    );

  it('resumes after broken connections with Range requests and verifies the whole blob', async () => {
    requests.length = 0;
    plan = [{ cut: 100_000 }, { cut: 50_000 }];
    const dest = join(dir, 'a');
    const result = await fetch(dest);
    assert.equal(result.size, blob.length);
    assert.ok(result.fetched <= blob.length + 128 * 1024, `re-downloaded little: ${result.fetched}`);
    assert.deepEqual(await readFile(dest), blob);
    assert.equal(requests[0]?.range, null);
    assert.ok(
      requests.slice(1).every((r) => r.status === 206 && r.range !== 'bytes=0-'),
      JSON.stringify(requests),
    );
  });

  it('resumes what an earlier process left on disk', async () => {
    requests.length = 0;
    plan = [];
    const dest = join(dir, 'b');
    await writeFile(dest, blob.subarray(0, 123_456));
    await fetch(dest);
    assert.deepEqual(requests, [{ range: 'bytes=123456-', status: 206 }]);
    assert.deepEqual(await readFile(dest), blob);
  });

  it('fails a digest mismatch, does not retry a 404, and gives up after the attempts on 503', async () => {
    plan = [];
    await assert.rejects(
      fetch(join(dir, 'c'), 'b1', '0'.repeat(64)),
      /sha256 is [0-9a-f]{64}, expected 0{64}/,
    );
    requests.length = 0;
    await assert.rejects(fetch(join(dir, 'd'), 'missing'), /HTTP 404/);
    assert.equal(requests.length, 1, 'a 404 is not retried');
    requests.length = 0;
    plan = [{ status: 503 }, { status: 503 }, { status: 503 }, { status: 503 }, { status: 503 }];
    await assert.rejects(fetch(join(dir, 'e')), /gave up after 4 attempts/);
    assert.equal(requests.length, 4, 'bounded retries');
  });
});
