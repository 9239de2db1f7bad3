// The refit CLI executable driving a real deployment: refit-director on its defaults (nats-server,
// refit-cpi-local VMs with the real agent). upload-stemcell, upload-release, update-cloud-config,
// deploy (diff, task), deployments, manifest, vms, instances --details, restart, recreate IG/ID,
// stop --hard, start, delete-deployment — each checked against what the director and the host
// then hold.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { startDirector, type DirectorProcess } from '@refit/director/api/director-process.test-support.ts';
import { buildRelease } from '@refit/testkit/release/build-release.ts';
import { refitCli, rowsOf } from './support/refit-cli.ts';
import { buildStemcell, deleteHostVms, hostVmsOf, loopJob, oneAzCloudConfig } from './support/vm-lab.ts';

const cloudConfig = oneAzCloudConfig(70);

const manifest = stringify({
  name: 'dep',
  releases: [{ name: 'app', version: '1' }],
  stemcells: [{ alias: 'default', os: 'refit-minimal', version: '1' }],
  update: { canaries: 1, max_in_flight: 2, canary_watch_time: '1000-30000', update_watch_time: '1000-30000' },
  instance_groups: [
    {
      name: 'web',
      azs: ['z1'],
      instances: 2,
      jobs: [{ name: 'web', release: 'app', properties: {} }],
      vm_type: 'default',
      stemcell: 'default',
      networks: [{ name: 'default' }],
    },
  ],
});

describe(
  'refit deploy and instance commands with real refit-cpi-local VMs',
  {
    timeout: 900_000,
    skip: process.getuid?.() !== 0 ? 'needs root (namespace VMs)' : false,
  },
  () => {
    let work = '';
    let director: DirectorProcess | undefined;

    const cli = refitCli(
      () => director!,
      () => work,
    );
    const refit = cli.run;
    const ok = cli.ok;
    /** `vms -d dep` piped: instance → VM CID. */
    const vmCids = async () =>
      new Map(rowsOf((await ok(['-d', 'dep', 'vms'])).stdout).map((r) => [r[0], r[4]]));
    const hostVms = () => hostVmsOf(join(work, 'director'));

    before(async () => {
      work = await mkdtemp(join(tmpdir(), 'refit-cli-deploy-vms-'));
      await buildStemcell(work, '1', { name: 'refit-cli-e2e' });
      director = await startDirector({ stateDir: join(work, 'director'), readyTimeoutMs: 60_000 });
      const release = join(work, 'app-1.tgz');
      await writeFile(
        release,
        (
          await buildRelease({
            name: 'app',
            version: '1',
            jobs: [loopJob({ marker: 'refit-cli-e2e-web' })],
          })
        ).tarball,
      );
      const cc = join(work, 'cc.yml');
      await writeFile(cc, stringify(cloudConfig));
      await ok(['upload-stemcell', join(work, 'sc-1/stemcell.tgz')]);
      await ok(['upload-release', release]);
      await ok(['-n', 'update-cloud-config', cc]);
    });

    after(async () => {
      if (director) {
        const left = await refit(['-n', '-d', 'dep', 'delete-deployment', '--force']).catch(() => undefined);
        void left;
        await director.stop();
        await deleteHostVms(join(work, 'director'));
      }
      await rm(work, { recursive: true, force: true });
    });

    it('deploys through the CLI; deployments, manifest, vms and instances --details show it', async () => {
      const path = join(work, 'dep.yml');
      await writeFile(path, manifest);
      const deployed = await ok(['--tty', '-n', '-d', 'dep', 'deploy', path]);
      assert.match(deployed.stdout, /^\+ name: dep$/m);
      assert.match(deployed.stdout, /\| Updating instance web: web\/[0-9a-f-]{36} \(0\) \(canary\)\n/);
      assert.match(deployed.stdout, /\| L starting jobs: web\/[0-9a-f-]{36} \(1\)\n/);
      assert.match(deployed.stdout, /Task \d+ done\n\nSucceeded\n$/);

      assert.deepEqual(rowsOf((await ok(['deployments'])).stdout), [
        ['dep', 'app/1', 'refit-cli-e2e/1', '-'],
      ]);
      assert.equal((await ok(['-d', 'dep', 'manifest'])).stdout, manifest);

      const vms = rowsOf((await ok(['-d', 'dep', 'vms'])).stdout);
      assert.equal(vms.length, 2);
      for (const row of vms) {
        assert.match(row[0] ?? '', /^web\/[0-9a-f-]{36}$/);
        assert.deepEqual([row[1], row[2], row[6], row[7]], ['running', 'z1', 'true', 'refit-cli-e2e/1']);
        assert.match(row[3] ?? '', /^127\.0\.70\.\d+$/);
      }
      assert.deepEqual((await hostVms()).length, 2);

      const details = JSON.parse((await ok(['--json', '-d', 'dep', 'instances', '--details'])).stdout) as {
        Tables: { Rows: Record<string, string>[] }[];
      };
      const rows = details.Tables[0]!.Rows;
      assert.equal(rows.length, 2);
      assert.deepEqual(
        rows.map((r) => [r.process_state, r.deployment, r.stemcell]),
        [
          ['running', 'dep', '1'],
          ['running', 'dep', '1'],
        ],
      );
      assert.deepEqual(rows.map((r) => r.bootstrap).sort(), ['false', 'true']);
    });

    it('restart keeps the VMs; recreate IG/ID replaces only that VM', async () => {
      const before = await vmCids();
      await ok(['-n', '-d', 'dep', 'restart']);
      assert.deepEqual(await vmCids(), before);

      const [first, second] = [...before.keys()].sort();
      await ok(['-n', '-d', 'dep', 'recreate', first!]);
      const now = await vmCids();
      assert.notEqual(now.get(first), before.get(first));
      assert.equal(now.get(second), before.get(second));
    });

    it('stop --hard deletes the VM and keeps the instance; start brings it back', async () => {
      const before = await vmCids();
      const [first] = [...before.keys()].sort();
      await ok(['-n', '-d', 'dep', 'stop', first!, '--hard']);
      assert.deepEqual(
        [...(await vmCids()).keys()],
        [...before.keys()].filter((k) => k !== first),
      );
      const instances = rowsOf((await ok(['-d', 'dep', 'instances'])).stdout);
      assert.equal(instances.length, 2);
      assert.equal((await hostVms()).length, 1);

      await ok(['-n', '-d', 'dep', 'start', first!]);
      const back = await vmCids();
      assert.equal(back.size, 2);
      assert.notEqual(back.get(first), before.get(first));
    });

    it('delete-deployment leaves no deployment and no VM', async () => {
      await ok(['-n', '-d', 'dep', 'delete-deployment']);
      assert.equal((await ok(['deployments'])).stdout, '');
      assert.deepEqual(await hostVms(), []);
    });
  },
);
