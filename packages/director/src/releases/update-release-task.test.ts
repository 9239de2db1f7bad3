// update_release and delete_release run directly on SQLite and PostgreSQL with a real
// blobstore: what the deploy work reads afterwards (findReleaseVersion, job templates from
// the stored blob, rendered with Ruby's ERB), and that a failed upload leaves nothing behind.
import assert from 'node:assert/strict';
import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { openTar } from '@refit/archive';
import { buildRelease, type ReleaseDefinition } from '@refit/testkit/release/build-release.ts';
import { LocalDirBlobstore } from '../blobstore/local-dir-blobstore.ts';
import { rootfsMigration } from '../db/migrations/003-rootfs.ts';
import { releasesMigration } from '../db/migrations/004-releases.ts';
import { testBackends, type TestDatabase } from '../db/test-databases.ts';
import type { EventRecorder } from '../feature.ts';
import { ScratchSpace } from '../stemcells/scratch-space.ts';
import { JsonEventLog } from '../tasks/json-event-log.ts';
import type { TaskContext } from '../tasks/task-context.ts';
import { readJobTemplatesFromBlob } from '../templates/read-job-templates.ts';
import { renderInstanceTemplates } from '../templates/render-instance-templates.ts';
import { deleteReleaseTask } from './delete-release-task.ts';
import { findReleaseVersion } from './release-lookup.ts';
import { PendingBlobs } from './pending-blobs.ts';
import { updateReleaseTask } from './update-release-task.ts';
import { RELEASE_ARCHIVE, type UpdateReleaseParams } from './upload-release-route.ts';

const noEvents: EventRecorder = { record: () => Promise.resolve('0') };

function context(lines: string[]): TaskContext {
  const log = { write: () => undefined };
  return {
    taskId: 1,
    user: 'admin',
    deployment: null,
    signal: AbortSignal.timeout(30_000),
    events: new JsonEventLog((line) => lines.push(line)),
    debug: log,
    cpi: log,
    result: log,
  };
}

const release = (version: string, overrides: Partial<ReleaseDefinition> = {}): ReleaseDefinition => ({
  name: 'shop',
  version,
  jobs: [
    {
      name: 'api',
      templates: {
        'ctl.erb': '#!/bin/sh\nexec api --port <%= p("port") %> --az <%= spec.az %>\n',
        'api.yml.erb': '<% if_p("debug") do |d| %>debug: <%= d %><% end.else do %>debug: off<% end %>\n',
      },
      destinations: { 'ctl.erb': 'bin/ctl', 'api.yml.erb': 'config/api.yml' },
      packages: ['api'],
      properties: { port: { default: 8080 }, debug: {} },
    },
  ],
  packages: [{ name: 'api', files: { 'api.bin': 'api\n' } }],
  ...overrides,
});

for (const backend of testBackends()) {
  describe(`update_release and delete_release on ${backend.name}`, { skip: backend.skip }, () => {
    let database: TestDatabase;
    let dir: string;
    let blobstore: LocalDirBlobstore;
    let scratch: ScratchSpace;
    let pending: PendingBlobs;
    before(async () => {
      database = await backend.create({ migrations: [rootfsMigration, releasesMigration] });
      dir = await mkdtemp(join(tmpdir(), 'refit-release-task-'));
      blobstore = new LocalDirBlobstore(join(dir, 'blobs'));
      await blobstore.start();
      scratch = new ScratchSpace(join(dir, 'scratch'));
      pending = new PendingBlobs(join(dir, 'pending'));
    });
    after(async () => {
      await database?.cleanup();
      await rm(dir, { recursive: true, force: true });
    });

    const deps = () => ({ db: database.db, blobstore, events: noEvents });
    const blobs = async () => {
      const ids: string[] = [];
      for await (const id of blobstore.list()) ids.push(id);
      return ids.sort();
    };
    async function upload(definition: ReleaseDefinition, lines: string[] = []) {
      const scratchDir = await scratch.create();
      const archive = join(dir, `${definition.version}.tgz`);
      await writeFile(archive, (await buildRelease(definition)).tarball);
      await copyFile(archive, join(scratchDir, RELEASE_ARCHIVE));
      const params: UpdateReleaseParams = { scratchDir, source: { kind: 'file' }, fix: false, rebase: false };
      return updateReleaseTask(deps(), scratch, pending).run(context(lines), params);
    }

    it('stores a release the deploy work can find, read and render', async () => {
      assert.equal(await upload(release('1')), "Created release 'shop/1'");
      const found = await findReleaseVersion(database.db, 'shop', 'latest');
      assert.equal(found.release.version, '1');
      assert.deepEqual(
        found.packages.map((p) => [p.name, p.dependencies]),
        [['api', []]],
      );
      const [api] = found.jobs;
      assert.equal(api?.spec.templates['ctl.erb'], 'bin/ctl');
      const files = await readJobTemplatesFromBlob(blobstore, api.blobstoreId);
      const rendered = await renderInstanceTemplates({
        spec: {
          deployment: 'shop',
          name: 'api',
          id: 'id-0',
          index: 0,
          az: 'z1',
          bootstrap: true,
          address: '127.0.30.2',
          ip: '127.0.30.2',
          networks: {},
          persistentDisk: 0,
        },
        jobs: [
          {
            jobSpec: api.spec,
            templates: files.templates,
            monit: files.monit,
            manifestProperties: { port: 9000 },
            release: { name: 'shop', version: '1' },
          },
        ],
        blobstore,
      });
      const entries = new Map<string, { mode: number; text: string }>();
      for await (const entry of openTar(await blobstore.get(rendered.archive.blobstoreId))) {
        const chunks: Buffer[] = [];
        for await (const chunk of entry.body as AsyncIterable<Buffer>) chunks.push(chunk);
        entries.set(entry.header.name, { mode: entry.header.mode, text: Buffer.concat(chunks).toString() });
      }
      assert.deepEqual(
        [...entries.keys()],
        ['api/', 'api/monit', 'api/bin/', 'api/bin/ctl', 'api/config/', 'api/config/api.yml'],
      );
      assert.equal(entries.get('api/bin/ctl')?.text, '#!/bin/sh\nexec api --port 9000 --az z1\n');
      assert.equal(entries.get('api/bin/ctl')?.mode, 0o755);
      assert.equal(entries.get('api/config/api.yml')?.text, 'debug: off\n');
      assert.equal(entries.get('api/config/api.yml')?.mode, 0o644);
      assert.deepEqual(Object.keys(rendered.templateHashes), ['api']);
      assert.match(rendered.configurationHash, /^[0-9a-f]{40}$/);
      assert.equal((await blobstore.stat(rendered.archive.blobstoreId))?.sha1, rendered.archive.sha1);
      await blobstore.delete(rendered.archive.blobstoreId);
    });

    it('leaves no row and no blob when a later job fails its checks', async () => {
      const before = await blobs();
      const definition = release('2', {
        jobs: [
          ...release('2').jobs!,
          { name: 'broken', templates: {}, monit: 'check process broken\n' },
          { name: 'zlast', templates: {} },
        ],
        packages: [...release('2').packages!, { name: 'fresh', files: { f: 'new bits\n' } }],
        wrongDigestFor: ['zlast'],
      });
      const lines: string[] = [];
      await assert.rejects(upload(definition, lines), { code: 30015 });
      // The new package and job were stored during the task, then removed with it.
      assert.ok(
        lines.some((l) => l.includes('"stage":"Creating new packages"') && l.includes('"state":"finished"')),
      );
      assert.deepEqual(await blobs(), before);
      await assert.rejects(findReleaseVersion(database.db, 'shop', '2'), {
        message: "Release version 'shop/2' doesn't exist",
      });
      const [count] = await database.db.query<{ n: number }>(
        "SELECT COUNT(*) AS n FROM packages WHERE name = 'fresh'",
      );
      assert.equal(Number(count?.n), 0);
      assert.deepEqual(await scratch.clear(), 0);
    });

    it('after a crash, recover deletes the blobs the upload stored that no row names', async () => {
      const scratchDir = await scratch.create();
      const orphan = await blobstore.put(Readable.from([Buffer.from('stored, then the director died')]));
      const kept = (await findReleaseVersion(database.db, 'shop', '1')).jobs[0]!.blobstoreId;
      await pending.add(pending.fileFor(scratchDir), orphan.id);
      await pending.add(pending.fileFor(scratchDir), kept);
      const params: UpdateReleaseParams = { scratchDir, source: { kind: 'file' }, fix: false, rebase: false };
      await updateReleaseTask(deps(), scratch, pending).recover?.(params);
      assert.equal(await blobstore.stat(orphan.id), null);
      assert.notEqual(await blobstore.stat(kept), null);
      assert.equal(await pending.settleAll(database.db, blobstore), 0);
      assert.equal(await scratch.clear(), 0);
    });

    it('deletes the release and every blob it alone used', async () => {
      const result = await deleteReleaseTask(deps()).run(context([]), {
        name: 'shop',
        version: null,
        force: false,
      });
      assert.equal(result, '/release/shop');
      assert.deepEqual(await blobs(), []);
      await assert.rejects(findReleaseVersion(database.db, 'shop', '1'), {
        message: "Release 'shop' doesn't exist",
      });
    });
  });
}
