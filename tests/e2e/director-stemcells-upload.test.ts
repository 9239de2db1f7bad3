// The real director + the test CPI: stemcell uploads (raw body and URL), listing, re-upload,
// --fix, bad input, and deletes, on SQLite and PostgreSQL.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { StemcellListItem } from '@refit/protocol';
import { startUploadLab, type UploadLab } from '@refit/director/stemcells/director-process.test-support.ts';
import { file, sha1, sha256, stemcellTgz } from '@refit/director/stemcells/upload-fixtures.test-support.ts';
import { testBackends } from '@refit/director/db/test-databases.ts';

const raw = { 'content-type': 'application/x-compressed' };
const json = { 'content-type': 'application/json' };

/** Serves `files` on 127.0.0.1 for URL uploads. */
async function serve(files: Map<string, Buffer>): Promise<{ server: Server; base: string }> {
  const server = createServer((req, res) => {
    const body = files.get(req.url ?? '');
    if (body === undefined) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-length': String(body.length) }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

for (const backend of testBackends()) {
  describe(`stemcell uploads on ${backend.name}`, { skip: backend.skip }, () => {
    let lab: UploadLab;
    let http: { server: Server; base: string };
    const files = new Map<string, Buffer>();
    before(async () => {
      lab = await startUploadLab({ backend: backend.name });
      http = await serve(files);
    });
    after(async () => {
      await new Promise((resolve) => http.server.close(resolve));
      await lab?.cleanup();
    });

    const list = async () => (await lab.director.request('GET', '/stemcells')).json<StemcellListItem[]>();
    const needed = async (name: string, version: string) =>
      (
        await lab.director.request('POST', '/stemcell_uploads', {
          headers: json,
          body: JSON.stringify({ stemcell: { name, version } }),
        })
      ).json<{ needed: boolean }>().needed;
    async function upload(body: Buffer, query = '') {
      const id = lab.director.taskOf(
        await lab.director.request('POST', `/stemcells${query}`, { headers: raw, body }),
      );
      return { id, task: await lab.director.waitTask(id) };
    }
    async function uploadUrl(location: string, digest?: string) {
      const body = JSON.stringify({ location, ...(digest === undefined ? {} : { sha1: digest }) });
      const id = lab.director.taskOf(
        await lab.director.request('POST', '/stemcells', { headers: json, body }),
      );
      return { id, task: await lab.director.waitTask(id) };
    }
    /** The task failed with `message`, and nothing of the upload stayed behind. */
    async function assertRefused(
      result: { id: number; task: { state: string; result: string | null } },
      message: RegExp,
    ) {
      assert.equal(result.task.state, 'error', `task ${result.id}: ${result.task.result}`);
      const events = await lab.director.output(result.id, 'event');
      const error = events
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => JSON.parse(line) as { error?: { message: string } })
        .find((line) => line.error !== undefined);
      assert.match(error?.error?.message ?? '', message);
      assert.deepEqual(await lab.scratchLeftovers(), []);
      assert.deepEqual(await lab.blobFiles(), []);
    }

    it('uploads a raw stemcell through the CPI and lists it', async () => {
      assert.equal(await needed('bosh-test-stemcell', '1.0'), true);
      assert.equal(await needed('', ''), true);
      const { id, task } = await upload(await stemcellTgz({ version: '1.0', image: 'IMAGE-1' }));
      assert.equal(task.state, 'done', await lab.director.output(id, 'event'));
      assert.equal(task.description, 'create stemcell');
      assert.equal(task.result, '/stemcells/bosh-test-stemcell/1.0');
      const events = (await lab.director.output(id, 'event'))
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as { stage: string; task: string; state: string });
      assert.ok(events.every((e) => e.stage === 'Update stemcell'));
      const started = events.filter((e) => e.state === 'started').map((e) => e.task);
      const [stemcell] = await list();
      assert.deepEqual(started, [
        'Extracting stemcell archive',
        'Verifying stemcell manifest',
        'Checking if this stemcell already exists',
        'Uploading stemcell bosh-test-stemcell/1.0 to the cloud',
        `Save stemcell bosh-test-stemcell/1.0 (${stemcell?.cid})`,
      ]);
      assert.deepEqual(
        { ...stemcell, id: 0 },
        {
          name: 'bosh-test-stemcell',
          operating_system: 'ubuntu-noble',
          version: '1.0',
          cid: stemcell?.cid,
          cpi: '',
          deployments: [],
          api_version: 3,
          id: 0,
          rootfs: null,
        },
      );
      const create = (await lab.cpi.calls()).filter((c) => c.method === 'create_stemcell');
      assert.equal(create.length, 1);
      assert.deepEqual(create[0]?.arguments[1], { infrastructure: 'test' });
      assert.match(String(create[0]?.arguments[0]), /stemcell-uploads\/upload-[^/]+\/extracted\/image$/);
      assert.equal(await needed('bosh-test-stemcell', '1.0'), false);
      assert.deepEqual(await lab.scratchLeftovers(), []);
      const cpiLog = await lab.director.output(id, 'cpi');
      assert.match(cpiLog, /create_stemcell/);
    });

    it('answers an existing version as BOSH does, and re-uploads it with fix=true', async () => {
      const before = await list();
      const again = await upload(await stemcellTgz({ version: '1.0', image: 'IMAGE-1' }));
      assert.equal(again.task.state, 'done');
      assert.match(await lab.director.output(again.id, 'event'), /to the cloud \(already exists, skipped\)/);
      assert.deepEqual(await list(), before);
      const fixed = await upload(await stemcellTgz({ version: '1.0', image: 'IMAGE-1' }), '?fix=true');
      assert.equal(fixed.task.state, 'done');
      const after = await list();
      assert.equal(after.length, 1);
      assert.notEqual(after[0]?.cid, before[0]?.cid);
      assert.equal((await lab.cpi.calls()).filter((c) => c.method === 'create_stemcell').length, 2);
    });

    it('downloads a stemcell from a URL and checks sha1 or the strongest of a multi-digest', async () => {
      const v2 = await stemcellTgz({ version: '2.0' });
      const v3 = await stemcellTgz({ version: '3.0' });
      files.set('/v2.tgz', v2);
      files.set('/v3.tgz', v3);
      const plain = await uploadUrl(`${http.base}/v2.tgz`, sha1(v2));
      assert.equal(plain.task.state, 'done');
      const events = await lab.director.output(plain.id, 'event');
      assert.match(events, /"task":"Downloading remote stemcell"/);
      assert.match(events, /"task":"Verifying remote stemcell"/);
      const multi = await uploadUrl(`${http.base}/v3.tgz`, `sha1:${'0'.repeat(40)};sha256:${sha256(v3)}`);
      assert.equal(multi.task.state, 'done', multi.task.result ?? '');
      assert.deepEqual(
        (await list()).map((s) => s.version),
        ['1.0', '2.0', '3.0'],
      );
    });

    it('refuses a wrong digest, leaving nothing behind', async () => {
      const v4 = await stemcellTgz({ version: '4.0' });
      files.set('/v4.tgz', v4);
      await assertRefused(
        await uploadUrl(`${http.base}/v4.tgz`, sha1('something else')),
        /Expected stream to have digest 'sha1:/,
      );
      await assertRefused(await uploadUrl(`${http.base}/missing.tgz`), /No stemcell found at/);
      assert.equal((await list()).length, 3);
    });

    it('refuses bad archives with a clear message, leaving nothing behind', async () => {
      const good = await stemcellTgz({ version: '5.0' });
      const cases: [Buffer, RegExp][] = [
        [good.subarray(0, good.length - 50), /Extracting stemcell archive failed: truncated gzip stream/],
        [await stemcellTgz({ withoutManifest: true }), /Stemcell archive has no stemcell.MF/],
        [await stemcellTgz({ image: null }), /Stemcell image not found/],
        [
          await stemcellTgz({ extra: [file('/etc/passwd', 'x')] }),
          /entry '\/etc\/passwd' has an absolute path/,
        ],
        [await stemcellTgz({ extra: [file('a/../../x', 'x')] }), /has a '\.\.' component/],
        [
          await stemcellTgz({
            extra: [{ header: { name: 'link', type: 'symlink', linkname: '../outside' } }],
          }),
          /is a symlink to '..\/outside', outside the archive/,
        ],
        [
          await stemcellTgz({
            extra: [{ header: { name: 'sda', type: 'block-device', devmajor: 8, devminor: 0 } }],
          }),
          /device files are not allowed/,
        ],
        [
          await stemcellTgz({ manifest: { version: '5.0', sha1: 'x' } }),
          /Required property 'name' was not specified in stemcell.MF/,
        ],
        [
          await stemcellTgz({ manifest: { name: 's', version: '5.0', sha1: 'x', cloud_properties: 'big' } }),
          /Property 'cloud_properties' value \("big"\) did not match the required type 'Hash'/,
        ],
        [
          await stemcellTgz({ version: '5.0', formats: ['vsphere-ova'] }),
          /uploaded stemcell with formats 'vsphere-ova' are not supported/,
        ],
      ];
      for (const [body, message] of cases) await assertRefused(await upload(body), message);
      assert.equal((await list()).length, 3);
    });

    it('deletes a stemcell, refusing unknown and in-use ones; force ignores only CPI errors', async () => {
      const del = async (path: string) => {
        const id = lab.director.taskOf(await lab.director.request('DELETE', path));
        return { id, task: await lab.director.waitTask(id) };
      };
      const unknown = await del('/stemcells/nope/9');
      assert.equal(unknown.task.state, 'error');
      assert.equal(unknown.task.description, 'delete stemcell: nope/9');
      assert.match(await lab.director.output(unknown.id, 'event'), /Stemcell 'nope\/9' doesn't exist/);

      const [v2] = (await list()).filter((s) => s.version === '2.0');
      await lab.db.execute(
        'INSERT INTO stemcell_usages (stemcell_id, deployment) VALUES ($1, $2), ($1, $3)',
        [v2!.id, 'web', 'db'],
      );
      const inUse = await del('/stemcells/bosh-test-stemcell/2.0?force=true');
      assert.equal(inUse.task.state, 'error');
      assert.match(
        await lab.director.output(inUse.id, 'event'),
        /Stemcell 'bosh-test-stemcell\/2.0' is still in use by: db, web/,
      );
      assert.deepEqual((await list()).find((s) => s.version === '2.0')?.deployments, [
        { name: 'db' },
        { name: 'web' },
      ]);

      await lab.cpi.configure({ faults: { delete_stemcell: 'cloud_error' } });
      const failing = await del('/stemcells/bosh-test-stemcell/3.0');
      assert.equal(failing.task.state, 'error');
      assert.equal((await list()).length, 3);
      const forced = await del('/stemcells/bosh-test-stemcell/3.0?force=true');
      assert.equal(forced.task.state, 'done');
      await lab.cpi.configure({});
      const plain = await del('/stemcells/bosh-test-stemcell/1.0');
      assert.equal(plain.task.state, 'done');
      assert.deepEqual(
        (await list()).map((s) => s.version),
        ['2.0'],
      );
      const events = (await lab.director.request('GET', '/events')).json<
        { action: string; object_type: string; object_name: string; error: string | null }[]
      >();
      const mine = events.filter((e) => e.object_type === 'stemcell');
      assert.ok(
        mine.some(
          (e) => e.action === 'create' && e.object_name === 'bosh-test-stemcell/1.0' && e.error === null,
        ),
      );
      assert.ok(
        mine.some(
          (e) => e.action === 'delete' && e.object_name === 'bosh-test-stemcell/3.0' && e.error === null,
        ),
      );
      assert.ok(mine.some((e) => e.action === 'delete' && e.object_name === 'nope/9' && e.error !== null));
    });
  });
}
