// The refit CLI executable against the real refit-director: upload-release of releases built by
// the testkit release builder (with /packages/matches leaving known packages out of the second
// upload), releases, the "already exists" check, and delete-release of a version and a series.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { DirectorProcess } from '@refit/director/api/director-process.test-support.ts';
import { buildRelease, type ReleaseDefinition } from '@refit/testkit/release/build-release.ts';
import type { RefitCli } from './support/refit-cli.ts';
import { startTestCpiDirector } from './support/test-cpi-director.ts';

function appRelease(version: string, serverBits: string): ReleaseDefinition {
  return {
    name: 'app',
    version,
    commitHash: 'abcdef12',
    jobs: [
      {
        name: 'web',
        templates: { 'ctl.erb': '#!/bin/sh\necho <%= p("port") %>\n' },
        destinations: { 'ctl.erb': 'bin/ctl' },
        packages: ['server'],
        properties: { port: { description: 'listen port', default: 8080 } },
      },
    ],
    packages: [
      { name: 'libc', files: { 'libc.so': 'libc bits\n' } },
      { name: 'server', dependencies: ['libc'], files: { 'server.bin': serverBits } },
    ],
  };
}

describe(
  'refit upload-release, releases, delete-release against refit-director',
  { timeout: 180_000 },
  () => {
    let work: string;
    let director: DirectorProcess;
    let cli: RefitCli;

    const refit = (argv: readonly string[]) => cli.run(argv);

    async function tarball(definition: ReleaseDefinition): Promise<string> {
      const path = join(work, `${definition.name}-${definition.version}.tgz`);
      await writeFile(path, (await buildRelease(definition)).tarball);
      return path;
    }

    before(async () => {
      work = await mkdtemp(join(tmpdir(), 'refit-cli-deploy-releases-'));
      ({ director, cli } = await startTestCpiDirector(work));
    });

    after(async () => {
      await director?.stop();
      await rm(work, { recursive: true, force: true });
    });

    it('uploads a release, follows its task, then says it already exists', async () => {
      const path = await tarball(appRelease('1.0', 'server v1\n'));
      const uploaded = await refit(['--tty', 'upload-release', path]);
      assert.equal(uploaded.code, 0, uploaded.stdout + uploaded.stderr);
      assert.match(uploaded.stdout, /100\.00%/);
      assert.match(uploaded.stdout, /\| Extracting release: Extracting release \(\d\d:\d\d:\d\d\)\n/);
      assert.match(uploaded.stdout, /Task \d+ done\n\nSucceeded\n$/);

      const again = await refit(['--tty', 'upload-release', path]);
      assert.equal(again.code, 0, again.stderr);
      assert.match(again.stdout, /^Release 'app\/1\.0' already exists\.$/m);
      assert.doesNotMatch(again.stdout, /Task \d+/);
    });

    it('a second version goes up without the package the director has; releases lists both', async () => {
      const path = await tarball(appRelease('1.1', 'server v2\n'));
      const uploaded = await refit(['upload-release', path]);
      assert.equal(uploaded.code, 0, uploaded.stdout + uploaded.stderr);
      const shown = await director.request({ path: '/releases/app?version=1.1' });
      assert.equal(shown.status, 200);
      const packages = shown
        .json<{ packages: { name: string }[] }>()
        .packages.map((p) => p.name)
        .sort();
      assert.deepEqual(packages, ['libc', 'server']);

      const listed = await refit(['--tty', 'releases']);
      assert.equal(listed.code, 0, listed.stderr);
      assert.ok(
        listed.stdout.endsWith(
          [
            'Name  Version  Commit Hash  ',
            'app   1.1      abcdef12  ',
            '~     1.0      abcdef12  ',
            '',
            '(*) Currently deployed',
            '(+) Uncommitted changes',
            '',
            '2 releases',
            '',
            'Succeeded',
            '',
          ].join('\n'),
        ),
        listed.stdout,
      );
    });

    it('deletes one version, then the whole series', async () => {
      const one = await refit(['-n', 'delete-release', 'app/1.0']);
      assert.equal(one.code, 0, one.stdout + one.stderr);
      assert.equal((await refit(['releases'])).stdout, 'app\t1.1\tabcdef12\t\n');

      const all = await refit(['-n', 'delete-release', 'app']);
      assert.equal(all.code, 0, all.stdout + all.stderr);
      assert.equal((await refit(['releases'])).stdout, '');

      const missing = await refit(['-n', 'delete-release', 'app']);
      assert.equal(missing.code, 1);
      assert.match(missing.stderr, /Release 'app' doesn't exist/);
    });
  },
);
