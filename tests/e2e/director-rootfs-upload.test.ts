// The real director: generic stemcell (rootfs.tgz) uploads, raw and from a URL, their checks
// (digests, manifest, hostile root tree entries), listing, the rootfs column of GET /stemcells,
// and deletes refused while a reload holds a reservation.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { RootfsListItem, StemcellListItem } from '@refit/protocol';
import { startUploadLab, type UploadLab } from '@refit/director/stemcells/director-process.test-support.ts';
import {
  file,
  rootfsTgz,
  saneRoot,
  sha1,
  sha256,
  stemcellTgz,
} from '@refit/director/stemcells/upload-fixtures.test-support.ts';
import { testBackends } from '@refit/director/db/test-databases.ts';

const raw = { 'content-type': 'application/x-compressed' };
const json = { 'content-type': 'application/json' };

for (const backend of testBackends()) {
  describe(`rootfs uploads on ${backend.name}`, { skip: backend.skip }, () => {
    let lab: UploadLab;
    let server: Server;
    let base: string;
    const files = new Map<string, Buffer>();
    before(async () => {
      lab = await startUploadLab({ backend: backend.name });
      server = createServer((req, res) => {
        const body = files.get(req.url ?? '');
        if (body === undefined) res.writeHead(404).end();
        else res.writeHead(200, { 'content-length': String(body.length) }).end(body);
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    after(async () => {
      await new Promise((resolve) => server?.close(resolve));
      await lab?.cleanup();
    });

    const list = async () => (await lab.director.request('GET', '/rootfs')).json<RootfsListItem[]>();
    const blobs = async () => (await lab.blobFiles()).filter((f) => !f.endsWith('.sha1'));
    async function run(method: string, path: string, body?: Buffer | string) {
      const headers = typeof body === 'string' ? json : raw;
      const reply = await lab.director.request(method, path, body === undefined ? {} : { headers, body });
      const id = lab.director.taskOf(reply);
      const task = await lab.director.waitTask(id);
      return { id, task, events: await lab.director.output(id, 'event') };
    }
    async function assertRefused(
      result: Awaited<ReturnType<typeof run>>,
      message: RegExp,
      blobCount: number,
    ) {
      assert.equal(result.task.state, 'error', result.events);
      const error = result.events
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as { error?: { message: string } })
        .find((l) => l.error);
      assert.match(error?.error?.message ?? '', message);
      assert.deepEqual(await lab.scratchLeftovers(), []);
      assert.equal((await blobs()).length, blobCount);
      assert.equal((await lab.director.request('GET', '/rootfs')).json<unknown[]>().length, blobCount);
    }

    it('uploads a raw rootfs.tgz into the blobstore and matches it to stemcells', async () => {
      const needed = await lab.director.request('POST', '/rootfs_uploads', {
        headers: json,
        body: JSON.stringify({ rootfs: { name: 'refit-generic-noble', version: '1.0' } }),
      });
      assert.deepEqual(needed.json(), { needed: true });
      const bytes = await rootfsTgz({ version: '1.0' });
      const { task, events } = await run('POST', '/rootfs', bytes);
      assert.equal(task.state, 'done', events);
      assert.equal(task.description, 'create rootfs');
      assert.equal(task.result, '/rootfs/refit-generic-noble/1.0');
      const started = events
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as { stage: string; task: string; state: string })
        .filter((e) => e.state === 'started');
      assert.ok(started.every((e) => e.stage === 'Update rootfs'));
      assert.deepEqual(
        started.map((e) => e.task),
        [
          'Verifying rootfs manifest',
          'Checking if this rootfs already exists',
          'Verifying and storing rootfs refit-generic-noble/1.0',
          `Save rootfs refit-generic-noble/1.0 (${sha256(bytes)})`,
        ],
      );
      const [item] = await list();
      assert.deepEqual(
        { ...item, created_at: '' },
        {
          name: 'refit-generic-noble',
          version: '1.0',
          operating_system: 'ubuntu-noble',
          api_version: 3,
          sha256: sha256(bytes),
          size: bytes.length,
          blobstore_id: sha256(bytes),
          created_at: '',
        },
      );
      assert.deepEqual(await blobs(), [`${sha256(bytes).slice(0, 2)}/${sha256(bytes)}`]);
      assert.deepEqual(await lab.scratchLeftovers(), []);

      const stemcell = await run('POST', '/stemcells', await stemcellTgz({ version: '1.0' }));
      assert.equal(stemcell.task.state, 'done');
      const stemcells = (await lab.director.request('GET', '/stemcells')).json<StemcellListItem[]>();
      assert.deepEqual(stemcells[0]?.rootfs, { version: '1.0', sha256: sha256(bytes), size: bytes.length });
      const needless = await lab.director.request('POST', '/rootfs_uploads', {
        headers: json,
        body: JSON.stringify({ rootfs: { name: 'refit-generic-noble', version: '1.0' } }),
      });
      assert.deepEqual(needless.json(), { needed: false });
    });

    it('answers an existing version as BOSH does', async () => {
      const before = await list();
      const again = await run('POST', '/rootfs', await rootfsTgz({ version: '1.0' }));
      assert.equal(again.task.state, 'done');
      assert.match(again.events, /\(already exists, skipped\)/);
      assert.deepEqual(await list(), before);
      // fix stores the archive again and drops the blob it replaces (tarballs carry mtimes).
      const rebuilt = await rootfsTgz({ version: '1.0' });
      const fixed = await run('POST', '/rootfs?fix=true', rebuilt);
      assert.equal(fixed.task.state, 'done', fixed.events);
      assert.doesNotMatch(fixed.events, /\(already exists, skipped\)/);
      assert.match(fixed.events, /"task":"Verifying and storing rootfs refit-generic-noble\/1.0"/);
      assert.deepEqual(
        (await list()).map((r) => [r.version, r.blobstore_id, r.size]),
        [['1.0', sha256(rebuilt), rebuilt.length]],
      );
      assert.deepEqual(await blobs(), [`${sha256(rebuilt).slice(0, 2)}/${sha256(rebuilt)}`]);
    });

    it('downloads a rootfs from a URL, checking its digest in the same pass', async () => {
      const bytes = await rootfsTgz({ version: '2.0' });
      files.set('/rootfs-2.tgz', bytes);
      const ok = await run(
        'POST',
        '/rootfs',
        JSON.stringify({ location: `${base}/rootfs-2.tgz`, sha1: `sha256:${sha256(bytes)}` }),
      );
      assert.equal(ok.task.state, 'done', ok.events);
      assert.match(ok.events, /"task":"Downloading remote rootfs"/);
      assert.match(ok.events, /"task":"Verifying remote rootfs"/);
      assert.equal((await list()).length, 2);
      const bad = await rootfsTgz({ version: '3.0' });
      files.set('/rootfs-3.tgz', bad);
      await assertRefused(
        await run(
          'POST',
          '/rootfs',
          JSON.stringify({ location: `${base}/rootfs-3.tgz`, sha1: sha1('not it') }),
        ),
        /Expected stream to have digest 'sha1:/,
        2,
      );
    });

    it('refuses bad and hostile archives, leaving nothing behind', async () => {
      const good = await rootfsTgz({ version: '4.0' });
      const cases: [Buffer, RegExp][] = [
        [good.subarray(0, good.length - 60), /truncated gzip stream|unexpected end/],
        [await rootfsTgz({ version: '4.0', withoutManifest: true }), /Rootfs archive has no rootfs.MF/],
        [
          await rootfsTgz({ version: '4.0', manifest: { api_version: 'three' } }),
          /Property 'api_version' value \("three"\)/,
        ],
        [
          await rootfsTgz({ version: '4.0', manifest: { install: null } }),
          /Required property 'install' was not specified in rootfs.MF/,
        ],
        [
          await rootfsTgz({
            version: '4.0',
            manifest: { root_archive: { path: 'root.tar', sha256: 'c'.repeat(64) } },
          }),
          /Root archive 'root.tar' has sha256 '[0-9a-f]{64}', rootfs.MF says 'c{64}'/,
        ],
        [
          await rootfsTgz({ version: '4.0', root: [...saneRoot, file('/etc/passwd', 'x')] }),
          /entry '\/etc\/passwd' has an absolute path/,
        ],
        [
          await rootfsTgz({ version: '4.0', root: [file('etc/../../../tmp/x', 'x')] }),
          /has a '\.\.' component/,
        ],
        [
          await rootfsTgz({
            version: '4.0',
            root: [{ header: { name: 'etc/shadow', type: 'symlink', linkname: '../../../etc/shadow' } }],
          }),
          /is a symlink to '..\/..\/..\/etc\/shadow', outside the archive/,
        ],
        [
          await rootfsTgz({
            version: '4.0',
            root: [
              { header: { name: 'var/sda', type: 'block-device', mode: 0o600, devmajor: 8, devminor: 0 } },
            ],
          }),
          /is a block-device outside dev\//,
        ],
        [
          await rootfsTgz({ version: '4.0', install: null }),
          /Install script 'install' named in rootfs.MF is not in the archive/,
        ],
        [
          await rootfsTgz({
            version: '4.0',
            install: { header: { name: 'install', type: 'directory', mode: 0o755 } },
          }),
          /Install script 'install' is a directory, not a regular file/,
        ],
      ];
      for (const [body, message] of cases)
        await assertRefused(await run('POST', '/rootfs', body), message, 2);
    });

    it('deletes a rootfs unless a reload holds it; unknown versions fail the task', async () => {
      const unknown = await run('DELETE', '/rootfs/refit-generic-noble/9.9');
      assert.equal(unknown.task.state, 'error');
      assert.equal(unknown.task.description, 'delete rootfs: refit-generic-noble/9.9');
      assert.match(unknown.events, /Rootfs 'refit-generic-noble\/9.9' doesn't exist/);

      const two = (await list()).find((r) => r.version === '2.0')!;
      const [row] = await lab.db.query<{ id: number }>('SELECT id FROM rootfs WHERE version = $1', ['2.0']);
      await lab.db.execute(
        'INSERT INTO rootfs_reservations (rootfs_id, holder, created_at) VALUES ($1, $2, $3)',
        [row!.id, 'deployment:web', new Date().toISOString()],
      );
      const held = await run('DELETE', '/rootfs/refit-generic-noble/2.0');
      assert.equal(held.task.state, 'error');
      assert.match(
        held.events,
        /Rootfs 'refit-generic-noble\/2.0' is needed by a reload in progress: deployment:web/,
      );
      assert.equal((await list()).length, 2);

      await lab.db.execute('DELETE FROM rootfs_reservations');
      const gone = await run('DELETE', '/rootfs/refit-generic-noble/2.0');
      assert.equal(gone.task.state, 'done', gone.events);
      assert.deepEqual(
        (await list()).map((r) => r.version),
        ['1.0'],
      );
      assert.ok(!(await blobs()).some((f) => f.endsWith(two.blobstore_id)));
      assert.equal((await blobs()).length, 1);
    });
  });
}
