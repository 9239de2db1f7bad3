// The real director with a misbehaving test CPI (crash, garbage, hang past the CPI timeout), and
// a director SIGKILLed in the middle of a raw upload and in the middle of an upload task.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { request } from 'node:https';
import type { AddressInfo } from 'node:net';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { StemcellListItem } from '@refit/protocol';
import { startUploadLab, type UploadLab } from '@refit/director/stemcells/director-process.test-support.ts';
import { rootfsTgz, stemcellTgz } from '@refit/director/stemcells/upload-fixtures.test-support.ts';

const raw = { 'content-type': 'application/x-compressed' };
const json = { 'content-type': 'application/json' };

async function until<T>(
  what: string,
  probe: () => Promise<T | null | undefined | false>,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== null && value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('stemcell uploads with a misbehaving CPI or director', () => {
  let lab: UploadLab;
  before(async () => {
    // Long enough for every test CPI call that should succeed: on a loaded 2-core machine the
    // test CPI (a Node process) took 1.3-2.3 s just to answer `info`; only the hang waits it out.
    lab = await startUploadLab({ backend: 'sqlite', cpiTimeoutSeconds: 10 });
  });
  after(() => lab?.cleanup());

  const list = async () => (await lab.director.request('GET', '/stemcells')).json<StemcellListItem[]>();
  async function upload(version: string) {
    const body = await stemcellTgz({ version });
    const id = lab.director.taskOf(await lab.director.request('POST', '/stemcells', { headers: raw, body }));
    return { id, task: await lab.director.waitTask(id, 30_000) };
  }
  async function assertFailedCleanly(result: Awaited<ReturnType<typeof upload>>, message: RegExp) {
    assert.equal(result.task.state, 'error');
    assert.match(await lab.director.output(result.id, 'event'), message);
    assert.deepEqual(await list(), []);
    assert.deepEqual(await lab.scratchLeftovers(), []);
    assert.deepEqual(await lab.blobFiles(), []);
  }

  it('fails the task when the CPI crashes or prints garbage', async () => {
    await lab.cpi.configure({ faults: { create_stemcell: 'crash' } });
    await assertFailedCleanly(await upload('1'), /create_stemcell/);
    await lab.cpi.configure({ faults: { create_stemcell: 'garbage' } });
    await assertFailedCleanly(await upload('1'), /create_stemcell/);
    const cpiLog = await lab.director.output((await upload('1')).id, 'cpi');
    assert.match(cpiLog, /create_stemcell/);
  });

  it('kills a hanging CPI at its timeout and fails the task', async () => {
    await lab.cpi.configure({ faults: { create_stemcell: 'hang' } });
    const result = await upload('2');
    await assertFailedCleanly(result, /create_stemcell/);
    assert.match(await lab.director.output(result.id, 'cpi'), /CPI timed out after 10 s: killed/);
    const pid = Number(await readFile(join(lab.cpi.stateDir, 'hang-create_stemcell.pid'), 'utf8'));
    await until('the hung CPI grandchild to be killed', () => Promise.resolve(!alive(pid)));
  });

  it('refuses a CPI without api_version and bad request bodies', async () => {
    await lab.cpi.configure({ api_version: null });
    await assertFailedCleanly(await upload('0'), /must report api_version via info/);
    await lab.cpi.configure({});
    const noStemcell = await lab.director.request('POST', '/stemcell_uploads', { headers: json, body: '{}' });
    assert.equal(noStemcell.status, 400);
    assert.deepEqual(noStemcell.json(), { code: 40001, description: "Missing 'stemcell' field" });
    const notHttp = await lab.director.request('POST', '/stemcells', {
      headers: json,
      body: JSON.stringify({ location: 'file:///etc/passwd' }),
    });
    assert.equal(notHttp.status, 400);
    assert.match(notHttp.text, /only http and https/);
    const badDigest = await lab.director.request('POST', '/rootfs', {
      headers: json,
      body: JSON.stringify({ location: 'http://127.0.0.1:1/x.tgz', sha1: 'md5:abc' }),
    });
    assert.equal(badDigest.status, 400);
    assert.match(badDigest.text, /unknown digest algorithm 'md5'/);
    assert.deepEqual(await lab.scratchLeftovers(), []);
  });

  it('cancels a download in progress and removes what it wrote', async () => {
    const stalled = createServer((_req, res) => {
      res.writeHead(200, { 'content-length': String(10 * 1024 * 1024) });
      res.write(Buffer.alloc(64 * 1024, 7));
    });
    await new Promise<void>((resolve) => stalled.listen(0, '127.0.0.1', resolve));
    try {
      const location = `http://127.0.0.1:${(stalled.address() as AddressInfo).port}/slow.tgz`;
      const reply = await lab.director.request('POST', '/stemcells', {
        headers: json,
        body: JSON.stringify({ location }),
      });
      const id = lab.director.taskOf(reply);
      await until('the download to start', async () =>
        (await lab.scratchLeftovers()).some((f) => f.endsWith('archive.tgz')),
      );
      const cancel = await lab.director.request('DELETE', `/task/${id}`);
      assert.ok(cancel.status === 204 || cancel.status === 200, cancel.text);
      const task = await lab.director.waitTask(id);
      assert.equal(task.state, 'cancelled');
      assert.deepEqual(await lab.scratchLeftovers(), []);
      assert.deepEqual(await list(), []);
    } finally {
      stalled.closeAllConnections();
      await new Promise((resolve) => stalled.close(resolve));
    }
  });

  for (const path of ['/stemcells', '/rootfs']) {
    it(`recovers from SIGKILL in the middle of a raw upload body (${path})`, async () => {
      await lab.cpi.configure({});
      const director = lab.director;
      const ca = await readFile(join(lab.stateDir, 'ca.pem'), 'utf8');
      const credentials = JSON.parse(await readFile(join(lab.stateDir, 'credentials.json'), 'utf8')) as {
        client: string;
        client_secret: string;
      };
      const req = request({
        host: '127.0.0.1',
        port: director.port,
        method: 'POST',
        path,
        ca,
        agent: false,
        headers: {
          ...raw,
          'content-length': String(10 * 1024 * 1024),
          authorization: `Basic ${Buffer.from(`${credentials.client}:${credentials.client_secret}`).toString('base64')}`,
        },
      });
      const failed = new Promise<void>((resolve) => {
        req.on('error', () => resolve());
        req.on('response', () => resolve());
      });
      req.write(Buffer.alloc(1024 * 1024, 1));
      await until(
        'the upload to reach the scratch folder',
        async () => (await lab.scratchLeftovers()).length > 0,
      );
      await lab.restart();
      await failed;
      assert.deepEqual(await lab.scratchLeftovers(), []);
      if (path === '/stemcells') {
        const later = await upload('3');
        assert.equal(later.task.state, 'done');
        assert.deepEqual(
          (await list()).map((s) => s.version),
          ['3'],
        );
      } else {
        const body = await rootfsTgz();
        const id = lab.director.taskOf(await lab.director.request('POST', '/rootfs', { headers: raw, body }));
        assert.equal((await lab.director.waitTask(id)).state, 'done');
        assert.equal((await lab.blobFiles()).filter((f) => !f.endsWith('.sha1')).length, 1);
      }
    });
  }

  it('marks an upload task error after SIGKILL during the CPI call; later uploads work', async () => {
    await lab.cpi.configure({ faults: { create_stemcell: 'hang' } });
    await rm(join(lab.cpi.stateDir, 'hang-create_stemcell.pid'), { force: true });
    const body = await stemcellTgz({ version: '4' });
    const id = lab.director.taskOf(await lab.director.request('POST', '/stemcells', { headers: raw, body }));
    await until('create_stemcell to be called', async () =>
      (await lab.cpi.calls()).some(
        (c) => c.method === 'create_stemcell' && (c.arguments[0] as string).includes('/upload-'),
      ),
    );
    const hung = Number(
      await until('the hang pid', () =>
        readFile(join(lab.cpi.stateDir, 'hang-create_stemcell.pid'), 'utf8').catch(() => null),
      ),
    );
    await lab.restart();
    // The SIGKILLed director could not reap its CPI call: end that process group here.
    const group = Number((await readFile(`/proc/${hung}/stat`, 'utf8')).split(') ')[1]?.split(' ')[2]);
    if (group > 1) process.kill(-group, 'SIGKILL');
    const task = await lab.director.waitTask(id);
    assert.equal(task.state, 'error');
    assert.match(task.result ?? '', /director (stopped|restarted)/);
    assert.deepEqual(await lab.scratchLeftovers(), []);
    assert.deepEqual(
      (await list()).map((s) => s.version),
      ['3'],
    );
    await lab.cpi.configure({});
    const later = await upload('4');
    assert.equal(later.task.state, 'done');
    assert.deepEqual(
      (await list()).map((s) => s.version),
      ['3', '4'],
    );
  });
});
