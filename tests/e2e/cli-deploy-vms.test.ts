// The refit CLI executable driving a real deployment: refit-director on its defaults (nats-server,
// refit-cpi-local VMs with the real agent). upload-stemcell, upload-release, update-cloud-config,
// deploy (diff, task), deployments, manifest, vms, instances --details, restart, recreate IG/ID,
// stop --hard, start, delete-deployment — each checked against what the director and the host
// then hold.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { startDirector, type DirectorProcess } from '@refit/director/api/director-process.test-support.ts';
import { buildRelease } from '@refit/testkit/release/build-release.ts';
import { callCpi } from './vm-harness/cpi-process.ts';

const exec = promisify(execFile);
const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const refitBin = join(repo, 'packages/cli/bin/refit');
const stemcellBin = join(repo, 'packages/stemcell/bin/refit-stemcell');

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

const ctl = `#!/bin/sh
RUN=/var/vcap/sys/run/web
case "$1" in
  start)
    mkdir -p "$RUN"
    /bin/sh -c 'while :; do sleep 1; done' refit-cli-e2e-web-<%= spec.id %> </dev/null >/dev/null 2>&1 &
    echo $! > "$RUN/web.pid"
    ;;
  stop)
    [ -f "$RUN/web.pid" ] && kill "$(cat "$RUN/web.pid")" 2>/dev/null
    rm -f "$RUN/web.pid"
    ;;
esac
`;

const cloudConfig = {
  azs: [{ name: 'z1' }],
  vm_types: [{ name: 'default' }],
  networks: [
    {
      name: 'default',
      type: 'manual',
      subnets: [{ range: '127.0.70.0/24', gateway: '127.0.70.1', az: 'z1' }],
    },
  ],
  compilation: { workers: 1, az: 'z1', vm_type: 'default', network: 'default' },
};

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

/** Piped (data-only) table rows as cells (`-` for empty, as the stock CLI). */
const rowsOf = (stdout: string): string[][] =>
  stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => l.replace(/\t$/, '').split('\t'));

describe(
  'refit deploy and instance commands with real refit-cpi-local VMs',
  {
    timeout: 900_000,
    skip: process.getuid?.() !== 0 ? 'needs root (namespace VMs)' : false,
  },
  () => {
    let work = '';
    let director: DirectorProcess | undefined;

    async function refit(argv: readonly string[]): Promise<Run> {
      const home = await mkdtemp(join(work, 'home-'));
      const env: Record<string, string> = {
        PATH: process.env['PATH'] ?? '/usr/bin:/bin',
        HOME: home,
        BOSH_ENVIRONMENT: `https://127.0.0.1:${director!.port}`,
        BOSH_CA_CERT: director!.ca,
        BOSH_CLIENT: director!.auth.client,
        BOSH_CLIENT_SECRET: director!.auth.secret,
      };
      return new Promise<Run>((ok) => {
        const child = execFile(refitBin, argv, { env, timeout: 300_000 }, (error, stdout, stderr) =>
          ok({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : -1, stdout, stderr }),
        );
        child.stdin?.end('');
      });
    }
    const ok = async (argv: readonly string[]): Promise<Run> => {
      const result = await refit(argv);
      assert.equal(result.code, 0, `refit ${argv.join(' ')}:\n${result.stdout}${result.stderr}`);
      return result;
    };
    /** `vms -d dep` piped: instance → VM CID. */
    const vmCids = async () =>
      new Map(rowsOf((await ok(['-d', 'dep', 'vms'])).stdout).map((r) => [r[0], r[4]]));
    const hostVms = async () =>
      (await readdir(join(work, 'director/cpi-local/state/vms')).catch(() => [])).sort();

    before(async () => {
      work = await mkdtemp(join(tmpdir(), 'refit-cli-deploy-vms-'));
      await exec(stemcellBin, [
        'build',
        '--name',
        'refit-cli-e2e',
        '--version',
        '1',
        '--os',
        'refit-minimal',
        '--out',
        join(work, 'sc-1'),
        '--base',
        'minimal',
      ]);
      director = await startDirector({ stateDir: join(work, 'director'), readyTimeoutMs: 60_000 });
      const release = join(work, 'app-1.tgz');
      await writeFile(
        release,
        (
          await buildRelease({
            name: 'app',
            version: '1',
            jobs: [
              {
                name: 'web',
                monit:
                  'check process web\n  with pidfile /var/vcap/sys/run/web/web.pid\n' +
                  '  start program "/var/vcap/jobs/web/bin/ctl start"\n' +
                  '  stop program "/var/vcap/jobs/web/bin/ctl stop"\n  group vcap\n',
                templates: { 'ctl.erb': ctl },
                destinations: { 'ctl.erb': 'bin/ctl' },
              },
            ],
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
        const cpi = {
          command: join(repo, 'packages/cpi-local/bin/refit-cpi-local'),
          args: ['--config', join(work, 'director/cpi-local/cpi.yml')],
        };
        for (const vm of await hostVms()) await callCpi(cpi, 'delete_vm', [vm]).catch(() => undefined);
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
