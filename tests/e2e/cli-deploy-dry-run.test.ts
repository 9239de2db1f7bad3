// The refit CLI executable against the real refit-director with the test CPI: upload a stemcell,
// a cloud config and a release built by the testkit, then `deploy --dry-run` shows the director's
// diff and the plan (per instance: action, strategy, reason) without creating anything; the
// client-side checks (manifest name, strategy values) refuse before any request.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import type { DirectorProcess } from '@refit/director/api/director-process.test-support.ts';
import { buildRelease } from '@refit/testkit/release/build-release.ts';
import type { RefitCli } from './support/refit-cli.ts';
import { startTestCpiDirector, writeTestStemcell } from './support/test-cpi-director.ts';

const cloudConfig = {
  azs: [{ name: 'z1' }, { name: 'z2' }],
  vm_types: [{ name: 'default' }],
  networks: [
    {
      name: 'default',
      type: 'manual',
      subnets: [
        { range: '127.0.60.0/24', gateway: '127.0.60.1', az: 'z1' },
        { range: '127.0.61.0/24', gateway: '127.0.61.1', az: 'z2' },
      ],
    },
  ],
  compilation: { workers: 1, az: 'z1', vm_type: 'default', network: 'default' },
};

const manifest = stringify({
  name: 'dep',
  releases: [{ name: 'app', version: 'latest' }],
  stemcells: [{ alias: 'default', os: 'ubuntu-jammy', version: '1.23' }],
  update: { canaries: 1, max_in_flight: 1, canary_watch_time: 1000, update_watch_time: 1000 },
  instance_groups: [
    {
      name: 'web',
      azs: ['z1', 'z2'],
      instances: 2,
      jobs: [{ name: 'web', release: 'app', properties: { port: 8080 } }],
      vm_type: 'default',
      stemcell: 'default',
      networks: [{ name: 'default' }],
    },
  ],
});

describe('refit deploy --dry-run against refit-director (test CPI)', { timeout: 180_000 }, () => {
  let work: string;
  let director: DirectorProcess;
  let cli: RefitCli;

  const refit = (argv: readonly string[]) => cli.run(argv);

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'refit-cli-deploy-dry-run-'));
    ({ director, cli } = await startTestCpiDirector(work));
    const stemcell = join(work, 'stemcell.tgz');
    await writeTestStemcell(stemcell);
    const release = join(work, 'app.tgz');
    await writeFile(
      release,
      (
        await buildRelease({
          name: 'app',
          version: '1',
          jobs: [
            {
              name: 'web',
              templates: { 'config.yml.erb': 'port: <%= p("port") %>\nid: <%= spec.id %>\n' },
              destinations: { 'config.yml.erb': 'config/config.yml' },
              properties: { port: { default: 80 } },
            },
          ],
        })
      ).tarball,
    );
    const cc = join(work, 'cc.yml');
    await writeFile(cc, stringify(cloudConfig));
    for (const argv of [
      ['upload-stemcell', stemcell],
      ['upload-release', release],
      ['-n', 'update-cloud-config', cc],
    ]) {
      const result = await refit(argv);
      assert.equal(result.code, 0, `${argv.join(' ')}: ${result.stdout}${result.stderr}`);
    }
  });

  after(async () => {
    await director?.stop();
    await rm(work, { recursive: true, force: true });
  });

  it('shows the diff and the plan, and creates nothing', async () => {
    const path = join(work, 'dep.yml');
    await writeFile(path, manifest);
    const run = await refit([
      '--tty',
      '-n',
      '-d',
      'dep',
      'deploy',
      path,
      '--dry-run',
      '--strategy',
      'reload',
    ]);
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.match(run.stdout, /^\+ name: dep$/m);
    assert.match(run.stdout, /\| Preparing deployment: Preparing deployment \(\d\d:\d\d:\d\d\)\n/);
    const plan = run.stdout.slice(run.stdout.indexOf('\nPlan\n'));
    assert.match(plan, /^Instance +AZ +Action +Strategy +Reason +Download {2}$/m);
    const rows = plan.split('\n').filter((l) => l.startsWith('web/'));
    assert.equal(rows.length, 2, plan);
    for (const row of rows)
      assert.match(row, /^web\/[0-9a-f-]{36} \(\d\) +z[12] +create +- +new instance +(-|0 B) {2}$/);
    assert.match(plan, /\n2 instances\n\nSucceeded\n$/);

    assert.equal((await refit(['deployments'])).stdout, '');
    assert.equal((await refit(['vms'])).stdout, '');
    const manifestRun = await refit(['-d', 'dep', 'manifest']);
    assert.equal(manifestRun.code, 1);
    assert.match(manifestRun.stderr, /Deployment 'dep' doesn't exist/);
  });

  it('refuses a manifest for another deployment and an unknown strategy before sending it', async () => {
    const path = join(work, 'dep.yml');
    await writeFile(path, manifest);
    const other = await refit(['-n', '-d', 'other', 'deploy', path, '--dry-run']);
    assert.equal(other.code, 1);
    assert.match(other.stderr, /^Expected manifest to specify deployment name 'other' but was 'dep'\n/);
    const strategy = await refit(['-n', '-d', 'dep', 'deploy', path, '--update-stemcell-strategy', 'reboot']);
    assert.equal(strategy.code, 1);
    assert.match(strategy.stderr, /expected 'reload' or 'recreate'/);
  });
});
