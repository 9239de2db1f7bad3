// The real director: release uploads (raw and URL) built by the testkit release builder,
// listing, showing, re-uploading, digests and hostile archives refused, missing dependencies,
// /packages/matches, compiled releases, and deletes, on SQLite and PostgreSQL.
import assert from 'node:assert/strict';
import { readdir, unlink } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ReleaseListItem, ReleaseVersionDetails } from '@refit/protocol';
import { startUploadLab, type UploadLab } from '@refit/director/stemcells/director-process.test-support.ts';
import { testBackends } from '@refit/director/db/test-databases.ts';
import {
  buildRelease,
  sha1Hex,
  sha256Hex,
  type ReleaseDefinition,
} from '@refit/testkit/release/build-release.ts';

const raw = { 'content-type': 'application/x-compressed' };
const json = { 'content-type': 'application/json' };
const yaml = { 'content-type': 'text/yaml' };

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

/** A small but real release: two jobs, three packages with a dependency chain. */
function appRelease(version: string, overrides: Partial<ReleaseDefinition> = {}): ReleaseDefinition {
  return {
    name: 'app',
    version,
    jobs: [
      {
        name: 'web',
        templates: {
          'ctl.erb': '#!/bin/sh\necho <%= p("port") %>\n',
          'config.yml.erb': 'name: <%= name %>\n',
        },
        destinations: { 'ctl.erb': 'bin/ctl', 'config.yml.erb': 'config/config.yml' },
        packages: ['server'],
        properties: { port: { description: 'listen port', default: 8080 } },
        provides: [{ name: 'web', type: 'http' }],
        consumes: [{ name: 'db', type: 'postgres', optional: true }],
      },
      { name: 'worker', templates: {}, packages: ['libc'] },
    ],
    packages: [
      { name: 'libc', files: { 'libc.so': 'libc bits\n' } },
      { name: 'runtime', dependencies: ['libc'], files: { 'rt.bin': 'runtime bits\n' } },
      { name: 'server', dependencies: ['runtime'], files: { 'server.bin': 'server bits\n' } },
    ],
    ...overrides,
  };
}

for (const backend of testBackends()) {
  describe(`release uploads on ${backend.name}`, { skip: backend.skip }, () => {
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

    const list = async () => (await lab.director.request('GET', '/releases')).json<ReleaseListItem[]>();
    const show = async (name: string, version: string) =>
      lab.director.request('GET', `/releases/${name}?version=${encodeURIComponent(version)}`);
    async function upload(body: Buffer, query = '') {
      const id = lab.director.taskOf(
        await lab.director.request('POST', `/releases${query}`, { headers: raw, body }),
      );
      return { id, task: await lab.director.waitTask(id) };
    }
    async function uploadUrl(location: string, digest?: string) {
      const body = JSON.stringify({ location, ...(digest === undefined ? {} : { sha1: digest }) });
      const id = lab.director.taskOf(
        await lab.director.request('POST', '/releases', { headers: json, body }),
      );
      return { id, task: await lab.director.waitTask(id) };
    }
    const events = async (id: number) =>
      (await lab.director.output(id, 'event'))
        .split('\n')
        .filter((l) => l !== '')
        .map(
          (l) =>
            JSON.parse(l) as {
              stage?: string;
              task?: string;
              state?: string;
              total?: number;
              error?: { code: number; message: string };
            },
        );
    const releaseLeftovers = async () =>
      (await readdir(join(lab.stateDir, 'tmp', 'release-uploads'), { recursive: true }).catch(() => [])).map(
        String,
      );
    const blobCount = async () => (await lab.blobFiles()).filter((f) => !f.endsWith('.sha1')).length;

    /** The task failed with `message` (and `code`), and nothing of the upload stayed behind. */
    async function assertRefused(
      result: { id: number; task: { state: string; result: string | null } },
      message: RegExp,
      code?: number,
    ) {
      assert.equal(result.task.state, 'error', `task ${result.id}: ${result.task.result}`);
      const error = (await events(result.id)).find((e) => e.error !== undefined)?.error;
      assert.match(error?.message ?? '', message);
      if (code !== undefined) assert.equal(error?.code, code);
      assert.deepEqual(await releaseLeftovers(), []);
    }

    it('uploads a raw release: BOSH stages, result, list and show', async () => {
      const built = await buildRelease(appRelease('1.0'));
      const { id, task } = await upload(built.tarball);
      assert.equal(task.state, 'done', JSON.stringify(await events(id)));
      assert.equal(task.description, 'create release');
      assert.equal(task.result, "Created release 'app/1.0'");
      const started = (await events(id)).filter((e) => e.state === 'started').map((e) => [e.stage, e.task]);
      assert.deepEqual(started, [
        ['Extracting release', 'Extracting release'],
        ['Verifying manifest', 'Verifying manifest'],
        ['Resolving package dependencies', 'Resolving package dependencies'],
        ['Creating new packages', `libc/${built.packages.get('libc')?.version}`],
        ['Creating new packages', `runtime/${built.packages.get('runtime')?.version}`],
        ['Creating new packages', `server/${built.packages.get('server')?.version}`],
        ['Creating new jobs', `web/${built.jobs.get('web')?.version}`],
        ['Creating new jobs', `worker/${built.jobs.get('worker')?.version}`],
        ['Release has been created', 'app/1.0'],
      ]);
      assert.deepEqual(await list(), [
        {
          name: 'app',
          release_versions: [
            {
              version: '1.0',
              commit_hash: 'abcdef12',
              uncommitted_changes: false,
              currently_deployed: false,
              job_names: ['web', 'worker'],
            },
          ],
        },
      ]);
      const details = (await show('app', '1.0')).json<ReleaseVersionDetails>();
      assert.deepEqual(
        details.jobs.map((j) => [j.name, j.fingerprint, j.sha1]),
        [
          ['web', built.jobs.get('web')?.fingerprint, sha1Hex(built.jobs.get('web')!.tgz)],
          ['worker', built.jobs.get('worker')?.fingerprint, sha1Hex(built.jobs.get('worker')!.tgz)],
        ],
      );
      assert.deepEqual(details.jobs[0]?.provides, [{ name: 'web', type: 'http' }]);
      assert.deepEqual(details.jobs[0]?.consumes, [{ name: 'db', type: 'postgres', optional: true }]);
      for (const pkg of details.packages) {
        const tgz = built.packages.get(pkg.name)!.tgz;
        assert.equal(pkg.sha1, sha1Hex(tgz));
        // Content-addressed blobstore: the id is the blob's sha256.
        assert.equal(pkg.blobstore_id, sha256Hex(tgz));
        assert.deepEqual(pkg.compiled_packages, []);
      }
      assert.equal(await blobCount(), 5);
      assert.deepEqual(await releaseLeftovers(), []);
      const missing = await show('app', '9.9');
      assert.equal(missing.status, 404);
      assert.deepEqual(missing.json(), {
        code: 30006,
        description: "Release version 'app/9.9' doesn't exist",
      });
      assert.deepEqual((await show('nope', '1')).json(), {
        code: 30005,
        description: "Release 'nope' doesn't exist",
      });
    });

    it('answers an existing version as BOSH does, and refuses another commit hash', async () => {
      const before = await blobCount();
      const again = await upload((await buildRelease(appRelease('1.0'))).tarball);
      assert.equal(again.task.state, 'done');
      const started = (await events(again.id)).filter((e) => e.state === 'started').map((e) => e.stage);
      assert.deepEqual(started, [
        'Extracting release',
        'Verifying manifest',
        'Resolving package dependencies',
        'Processing 3 existing packages',
        'Processing 2 existing jobs',
        'Release has been created',
      ]);
      assert.equal(await blobCount(), before);
      const other = await upload((await buildRelease(appRelease('1.0', { commitHash: 'ffff0000' }))).tarball);
      await assertRefused(
        other,
        /release 'app\/1.0' has already been uploaded with commit_hash as 'abcdef12' and uncommitted_changes as 'false'/,
        30014,
      );
    });

    it('downloads from a URL, checking sha1 or the strongest digest', async () => {
      const v2 = (await buildRelease(appRelease('2.0'))).tarball;
      files.set('/app-2.tgz', v2);
      const ok = await uploadUrl(`${http.base}/app-2.tgz`, `sha1:${'0'.repeat(40)};sha256:${sha256Hex(v2)}`);
      assert.equal(ok.task.state, 'done', ok.task.result ?? '');
      const stages = (await events(ok.id)).filter((e) => e.state === 'started').map((e) => e.stage);
      assert.deepEqual(stages.slice(0, 3), [
        'Downloading remote release',
        'Verifying remote release',
        'Extracting release',
      ]);
      // Same packages and jobs as 1.0: reused, nothing new stored.
      assert.ok(stages.includes('Processing 3 existing packages'));
      const bad = (await buildRelease(appRelease('2.1'))).tarball;
      files.set('/app-2.1.tgz', bad);
      await assertRefused(
        await uploadUrl(`${http.base}/app-2.1.tgz`, sha1Hex('other')),
        /Expected stream to have digest 'sha1:/,
        30015,
      );
      await assertRefused(await uploadUrl(`${http.base}/missing.tgz`), /No release found at/);
      const both = await lab.director.request('POST', `/releases?sha1=${sha1Hex(bad)}`, {
        headers: json,
        body: JSON.stringify({ location: `${http.base}/app-2.1.tgz`, sha1: sha1Hex(bad) }),
      });
      assert.equal(both.status, 400);
      assert.match(both.text, /Sha1 provided in multiple places/);
      assert.deepEqual(
        (await list())[0]?.release_versions.map((v) => v.version),
        ['1.0', '2.0'],
      );
    });

    it('refuses wrong digests, hostile entries and broken dependencies, leaving nothing behind', async () => {
      const blobsBefore = await lab.blobFiles();
      const fresh = (files: Record<string, string>) => ({
        packages: [{ name: 'solo', files }],
        jobs: [{ name: 'solo-job', packages: ['solo'], templates: {} }],
      });
      const cases: [Buffer, RegExp, number][] = [
        [
          (await buildRelease({ ...appRelease('3.0'), ...fresh({ a: '1' }), wrongDigestFor: ['solo'] }))
            .tarball,
          /Package 'solo\/[0-9a-f]+' has digest 'sha1:[0-9a-f]{40}', release.MF says 'sha1:/,
          30015,
        ],
        [
          (
            await buildRelease({
              ...appRelease('3.1'),
              ...fresh({ b: '1' }),
              digest: 'sha256',
              wrongDigestFor: ['solo-job'],
            })
          ).tarball,
          /Job 'solo-job\/[0-9a-f]+' has digest 'sha256:[0-9a-f]{64}', release.MF says 'sha256:/,
          30015,
        ],
        [
          (
            await buildRelease({
              ...appRelease('3.2'),
              extra: [{ header: { name: '../evil', type: 'file' }, content: 'x' }],
            })
          ).tarball,
          /Extracting release archive failed: entry '..\/evil' has a '..' component/,
          30002,
        ],
        [
          (
            await buildRelease({
              ...appRelease('3.3'),
              packages: [
                {
                  name: 'solo',
                  files: { c: '1' },
                  extra: [{ header: { name: 'link', type: 'symlink', linkname: '/etc/passwd' } }],
                },
              ],
              jobs: [],
            })
          ).tarball,
          /Package 'solo\/[0-9a-f]+' archive is invalid: entry 'link' is a symlink to the absolute path '\/etc\/passwd'/,
          60000,
        ],
        [
          (
            await buildRelease({
              ...appRelease('3.4'),
              packages: [],
              jobs: [
                {
                  name: 'bad',
                  templates: {},
                  extra: [{ header: { name: '/abs', type: 'file' }, content: 'x' }],
                },
              ],
            })
          ).tarball,
          /Job 'bad\/[0-9a-f]+' archive is invalid: entry '\/abs' has an absolute path/,
          80000,
        ],
        [
          (
            await buildRelease({
              ...appRelease('3.5'),
              packages: [{ name: 'top', dependencies: ['ghost'], files: { d: '1' } }],
              jobs: [],
            })
          ).tarball,
          /Package 'top' depends on missing package 'ghost'/,
          30012,
        ],
        [
          (
            await buildRelease({
              ...appRelease('3.6'),
              packages: [
                { name: 'a', dependencies: ['b'], files: { e: '1' } },
                { name: 'b', dependencies: ['a'], files: { f: '1' } },
              ],
              jobs: [],
            })
          ).tarball,
          /Package 'a' has a dependency cycle: a -> b -> a/,
          30012,
        ],
        [
          (
            await buildRelease({
              ...appRelease('3.7'),
              jobs: [{ name: 'nomonit', monit: null, templates: {} }],
            })
          ).tarball,
          /Job 'nomonit' is missing monit file/,
          80004,
        ],
        [
          (
            await buildRelease({
              ...appRelease('3.8'),
              jobs: [{ name: 'tpl', templates: {}, destinations: { 'missing.erb': 'bin/x' } }],
            })
          ).tarball,
          /Missing template file 'missing.erb' for job 'tpl'/,
          80002,
        ],
        [
          (await buildRelease({ ...appRelease('3.9'), jobs: [{ name: 'nomf', manifest: null }] })).tarball,
          /Missing job manifest for 'nomf'/,
          80001,
        ],
        [
          (await buildRelease({ ...appRelease('not a version!') })).tarball,
          /Release version invalid: not a version!/,
          30010,
        ],
        [
          (await buildRelease({ ...appRelease('4.0'), editManifest: (m) => ({ ...m, name: undefined }) }))
            .tarball,
          /Required property 'name' was not specified in release.MF/,
          40001,
        ],
        [
          (await buildRelease({ ...appRelease('4.1'), editManifest: (m) => ({ ...m, name: '../x' }) }))
            .tarball,
          /Property 'name' value \("..\/x"\) is invalid in release.MF/,
          40000,
        ],
        [
          Buffer.from('not a tarball at all'),
          /Extracting release archive failed: unexpected end of tar archive/,
          30002,
        ],
      ];
      for (const [body, message, code] of cases) await assertRefused(await upload(body), message, code);
      assert.deepEqual(await lab.blobFiles(), blobsBefore);
      assert.deepEqual(
        (await list())[0]?.release_versions.map((v) => v.version),
        ['1.0', '2.0'],
      );
    });

    it('answers /packages/matches and accepts a tarball without the matched packages', async () => {
      const built = await buildRelease(
        appRelease('5.0', { packages: [...appRelease('5.0').packages!, { name: 'extra' }] }),
      );
      const matches = await lab.director.request('POST', '/packages/matches', {
        headers: yaml,
        body: built.manifestText,
      });
      assert.equal(matches.status, 200);
      const expected = ['libc', 'runtime', 'server'].map((n) => built.packages.get(n)!.fingerprint).sort();
      assert.deepEqual(matches.json<string[]>().sort(), expected);
      const bad = await lab.director.request('POST', '/packages/matches', {
        headers: yaml,
        body: 'name: x\n',
      });
      assert.equal(bad.status, 400);
      assert.equal(bad.json<{ code: number }>().code, 440001);
      // The CLI leaves matched packages out; the director reuses their stored bits.
      const slim = await buildRelease(
        appRelease('5.0', {
          packages: [...appRelease('5.0').packages!, { name: 'extra' }],
          omitPackageArchives: ['libc', 'runtime', 'server'],
        }),
      );
      const result = await upload(slim.tarball);
      assert.equal(result.task.state, 'done', JSON.stringify(await events(result.id)));
      const details = (await show('app', '5.0')).json<ReleaseVersionDetails>();
      assert.deepEqual(
        details.packages.map((p) => p.name),
        ['extra', 'libc', 'runtime', 'server'],
      );
      assert.ok(details.packages.every((p) => p.blobstore_id !== null));
      // A package neither in the archive nor on the director is refused.
      const lost = await buildRelease(
        appRelease('5.1', { packages: [{ name: 'nowhere' }], jobs: [], omitPackageArchives: ['nowhere'] }),
      );
      await assertRefused(
        await upload(lost.tarball),
        /Package 'nowhere\/[0-9a-f]+' is not in the release archive/,
        60001,
      );
    });

    it('stores a compiled release into the compiled package store and matches it', async () => {
      const definition: ReleaseDefinition = {
        name: 'compiled',
        version: '1',
        compiledFor: 'ubuntu-noble/1.5',
        packages: [
          { name: 'base', files: { 'bin/base': 'compiled base\n' } },
          { name: 'top', dependencies: ['base'], files: { 'bin/top': 'compiled top\n' } },
        ],
        jobs: [{ name: 'svc', packages: ['top'], templates: {} }],
      };
      const built = await buildRelease(definition);
      const { id, task } = await upload(built.tarball);
      assert.equal(task.state, 'done', JSON.stringify(await events(id)));
      const stages = (await events(id)).filter((e) => e.state === 'started').map((e) => [e.stage, e.task]);
      assert.deepEqual(stages.slice(3), [
        ['Creating new packages', `base/${built.packages.get('base')?.version}`],
        ['Creating new packages', `top/${built.packages.get('top')?.version}`],
        [
          'Creating new compiled packages',
          `base/${built.packages.get('base')?.version} for ubuntu-noble/1.5`,
        ],
        ['Creating new compiled packages', `top/${built.packages.get('top')?.version} for ubuntu-noble/1.5`],
        ['Creating new jobs', `svc/${built.jobs.get('svc')?.version}`],
        ['Compiled Release has been created', 'compiled/1'],
      ]);
      const details = (await show('compiled', '1')).json<ReleaseVersionDetails>();
      const top = details.packages.find((p) => p.name === 'top');
      assert.equal(top?.blobstore_id, null);
      assert.deepEqual(top?.compiled_packages, [
        {
          stemcell: 'ubuntu-noble/1.5',
          sha1: sha1Hex(built.packages.get('top')!.tgz),
          blobstore_id: sha256Hex(built.packages.get('top')!.tgz),
        },
      ]);
      const rows = await lab.db.query<{ dependency_key: string; package_name: string }>(
        "SELECT package_name, dependency_key FROM compiled_packages WHERE package_name = 'top'",
      );
      assert.deepEqual(rows, [
        {
          package_name: 'top',
          dependency_key: JSON.stringify([['base', built.packages.get('base')?.version]]),
        },
      ]);
      const matched = await lab.director.request('POST', '/packages/matches_compiled', {
        headers: yaml,
        body: built.manifestText,
      });
      assert.deepEqual(
        matched.json<string[]>().sort(),
        [built.packages.get('base')!.fingerprint, built.packages.get('top')!.fingerprint].sort(),
      );
      const otherStemcell = built.manifestText.replaceAll('ubuntu-noble/1.5', 'ubuntu-noble/2.0');
      const none = await lab.director.request('POST', '/packages/matches_compiled', {
        headers: yaml,
        body: otherStemcell,
      });
      assert.deepEqual(none.json(), []);
    });

    it('re-stores the bits of an existing version with fix=true, after checking them', async () => {
      const built = await buildRelease(appRelease('1.0'));
      const libc = sha256Hex(built.packages.get('libc')!.tgz);
      // A lost blob (e.g. a damaged blobstore) is what fix repairs.
      const blobFile = (await lab.blobFiles()).find((f) => f.endsWith(libc));
      assert.ok(blobFile);
      await unlink(join(lab.stateDir, 'blobstore', blobFile));
      const fixed = await upload(built.tarball, '?fix=true');
      assert.equal(fixed.task.state, 'done', JSON.stringify(await events(fixed.id)));
      const stages = (await events(fixed.id)).filter((e) => e.state === 'started').map((e) => e.stage);
      assert.deepEqual(stages.slice(3), [
        'Processing 3 existing packages',
        'Processing 2 existing jobs',
        'Release has been created',
      ]);
      assert.ok((await lab.blobFiles()).some((f) => f.endsWith(libc)));
      const tampered = await buildRelease(appRelease('1.0', { wrongDigestFor: ['server'] }));
      await assertRefused(
        await upload(tampered.tarball, '?fix=true'),
        /Package 'server\/[0-9a-f]+' has digest/,
        30015,
      );
    });

    it('rebases a dev version on upload with rebase=true', async () => {
      const built = await buildRelease(appRelease('7+dev.1'));
      const first = await upload(built.tarball, '?rebase=true');
      assert.equal(first.task.result, "Created release 'app/7+dev.1'");
      const second = await upload(
        (await buildRelease(appRelease('7+dev.1', { commitHash: 'other' }))).tarball,
        '?rebase=true',
      );
      assert.equal(second.task.state, 'done', JSON.stringify(await events(second.id)));
      assert.equal(second.task.result, "Created release 'app/7+dev.2'");
    });

    it('deletes versions and releases, refusing those in use, and drops unreferenced blobs', async () => {
      const del = async (path: string) => {
        const reply = await lab.director.request('DELETE', path);
        if (reply.status !== 302) return { status: reply.status, text: reply.text };
        const id = lab.director.taskOf(reply);
        return { status: 302, id, task: await lab.director.waitTask(id) };
      };
      const unknown = await del('/releases/nope');
      assert.equal(unknown.status, 404);
      assert.match(unknown.text ?? '', /Release 'nope' doesn't exist/);
      const missingVersion = await del('/releases/app?version=9');
      assert.equal(missingVersion.task?.state, 'error');
      assert.equal(missingVersion.task?.description, 'delete release: app');

      const [v1] = await lab.db.query<{ id: number }>(
        "SELECT v.id FROM release_versions v JOIN releases r ON r.id = v.release_id WHERE r.name = 'app' AND v.version = '1.0'",
      );
      await lab.db.execute(
        'INSERT INTO release_version_usages (release_version_id, deployment) VALUES ($1, $2)',
        [v1!.id, 'dep-a'],
      );
      assert.equal((await list())[0]?.release_versions[0]?.currently_deployed, true);
      const inUse = await del('/releases/app?version=1.0');
      assert.equal(inUse.task?.state, 'error');
      assert.match(
        await lab.director.output(inUse.id!, 'event'),
        /ReleaseVersion 'app\/1.0' is still in use by: dep-a/,
      );
      const wholeInUse = await del('/releases/app');
      assert.match(
        await lab.director.output(wholeInUse.id!, 'event'),
        /Release 'app' is still in use by: dep-a/,
      );

      // Deleting 2.0 keeps every blob: 1.0 lists the same packages and jobs.
      const blobs = await blobCount();
      const v2 = await del('/releases/app?version=2.0');
      assert.equal(v2.task?.state, 'done');
      assert.equal(v2.task?.result, '/release/app');
      assert.equal(await blobCount(), blobs);

      await lab.db.execute('DELETE FROM release_version_usages');
      const all = await del('/releases/app');
      assert.equal(all.task?.state, 'done', await lab.director.output(all.id!, 'event'));
      const stages = [...new Set((await events(all.id!)).map((e) => e.stage))];
      assert.deepEqual(stages, ['Deleting packages', 'Deleting jobs', 'Deleting release versions']);
      const compiled = await del('/releases/compiled');
      assert.equal(compiled.task?.state, 'done');
      assert.deepEqual(await list(), []);
      assert.deepEqual(await lab.blobFiles(), []);
      assert.deepEqual(await lab.db.query('SELECT id FROM compiled_packages'), []);
    });
  });
}
