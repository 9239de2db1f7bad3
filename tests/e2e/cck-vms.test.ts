// Cloud check against a real deployment: refit-director on its defaults (nats-server,
// refit-cpi-local VMs with the real agent), two instances with persistent disks, driven by the
// refit CLI. A frozen agent (SIGSTOP: the VM lives, its init sees nothing to restart) is
// unresponsive_agent and reboot_vm fixes it; a VM lost at the IaaS (its supervisor and every process
// SIGKILLed, its CPI records left: has_vm false) is missing_vm and recreate_vm brings it back with
// the same persistent data;
// a disk deleted behind the director's back is missing_disk, resolved by delete_disk_reference.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, readdir, readlink, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { startDirector, type DirectorProcess } from '@refit/director/api/director-process.test-support.ts';
import { buildRelease } from '@refit/testkit/release/build-release.ts';
import { callCpi } from './vm-harness/cpi-process.ts';
import { hostPidsWith, vmInitPid } from './vm-harness/vm-processes.ts';

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
STORE=/var/vcap/store/web
case "$1" in
  start)
    mkdir -p "$RUN" "$STORE"
    [ -f "$STORE/data" ] || head -c 4096 /dev/urandom > "$STORE/data"
    /bin/sh -c 'while :; do sleep 1; done' refit-cck-e2e-web-<%= spec.id %> </dev/null >/dev/null 2>&1 &
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
      subnets: [{ range: '127.0.72.0/24', gateway: '127.0.72.1', az: 'z1' }],
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
      persistent_disk: 64,
      networks: [{ name: 'default' }],
    },
  ],
});

async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe(
  'cck with real refit-cpi-local VMs',
  { timeout: 900_000, skip: process.getuid?.() !== 0 ? 'needs root (namespace VMs)' : false },
  () => {
    let work = '';
    let director: DirectorProcess | undefined;
    const cpiState = () => join(work, 'director/cpi-local/state');
    const cpi = () => ({
      command: join(repo, 'packages/cpi-local/bin/refit-cpi-local'),
      args: ['--config', join(work, 'director/cpi-local/cpi.yml')],
    });

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
      new Map(
        (await ok(['-d', 'dep', 'vms'])).stdout
          .split('\n')
          .filter((l) => l !== '')
          .map((l) => l.split('\t'))
          .map((r) => [r[0] ?? '', r[4] ?? '']),
      );
    const diskOf = async (vmCid: string) => {
      const disks = (await callCpi(cpi(), 'get_disks', [vmCid])) as string[];
      assert.equal(disks.length, 1);
      return disks[0]!;
    };
    const checksum = async (diskCid: string) =>
      createHash('sha256')
        .update(await readFile(join(cpiState(), 'disks', diskCid, 'data/web/data')))
        .digest('hex');
    /** The VM's agent process on the host (same pid namespace as the VM's init). */
    const agentPid = async (vmCid: string): Promise<number | undefined> => {
      const init = await vmInitPid([vmCid]);
      if (init === undefined) return undefined;
      const ns = await readlink(`/proc/${init}/ns/pid`);
      for (const pid of await hostPidsWith('refit-agent.mjs')) {
        if ((await readlink(`/proc/${pid}/ns/pid`).catch(() => '')) === ns) return pid;
      }
      return undefined;
    };
    /** Problem types in the piped `# | Type | Description` rows (after the task's event lines). */
    const problemTypes = (run: Run) =>
      [...run.stdout.matchAll(/(\d+)\t([a-z_]+)\t/g)].map((m) => m[2] ?? '').sort();

    before(async () => {
      work = await mkdtemp(join(tmpdir(), 'refit-cck-vms-'));
      await exec(stemcellBin, [
        'build',
        '--name',
        'refit-cck-e2e',
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
      const path = join(work, 'dep.yml');
      await writeFile(path, manifest);
      await ok(['-n', '-d', 'dep', 'deploy', path]);
    });

    after(async () => {
      if (director) {
        await refit(['-n', '-d', 'dep', 'delete-deployment', '--force']).catch(() => undefined);
        await director.stop();
        const vms = await readdir(join(cpiState(), 'vms')).catch(() => [] as string[]);
        for (const vm of vms) await callCpi(cpi(), 'delete_vm', [vm]).catch(() => undefined);
      }
      await rm(work, { recursive: true, force: true });
    });

    it('a healthy deployment: cck --report finds nothing and exits 0', async () => {
      const run = await ok(['-d', 'dep', 'cck', '--report']);
      assert.deepEqual(problemTypes(run), []);
      // The instance list refit-hm reads names each instance's persistent disk.
      const listed = (await director!.request({ path: '/deployments/dep/instances' })).json<
        Array<{ cid: string; disk_cid: string | null; disk_cids: string[] }>
      >();
      assert.equal(listed.length, 2);
      for (const instance of listed) {
        const disk = await diskOf(instance.cid);
        assert.equal(instance.disk_cid, disk);
        assert.deepEqual(instance.disk_cids, [disk]);
      }
    });

    it('a frozen agent is unresponsive_agent; cck --report fails; reboot_vm brings it back', async () => {
      const cids = await vmCids();
      const [, vmCid] = [...cids.entries()].sort()[0]!;
      const pid = await waitFor('the agent process', 15_000, () => agentPid(vmCid));
      process.kill(pid, 'SIGSTOP');
      try {
        const report = await refit(['-d', 'dep', 'cck', '--report']);
        assert.notEqual(report.code, 0, report.stdout + report.stderr);
        assert.deepEqual(problemTypes(report), ['unresponsive_agent']);
        assert.match(report.stdout, new RegExp(`with cloud ID '${vmCid}' is not responding\\.`));
        await ok(['-n', '-d', 'dep', 'cck', '--resolution', 'reboot_vm']);
      } finally {
        // The reboot killed it; in case it did not, never leave a stopped process behind.
        try {
          process.kill(pid, 'SIGCONT');
        } catch {
          /* gone */
        }
      }
      assert.deepEqual(await vmCids(), cids, 'rebooted in place');
      assert.deepEqual(problemTypes(await ok(['-d', 'dep', 'cck', '--report'])), []);
    });

    it('a VM lost at the IaaS is missing_vm; recreate_vm brings it back with the same persistent data', async () => {
      const cids = await vmCids();
      const [instance, vmCid] = [...cids.entries()].sort()[1]!;
      const disk = await diskOf(vmCid);
      const before = await checksum(disk);
      const status = JSON.parse(await readFile(join(cpiState(), 'vms', vmCid, 'status.json'), 'utf8')) as {
        supervisor: { pid: number };
        unshare: { pid: number };
        init: { pid: number };
      };
      // The supervisor alone: the VM itself still runs, and the CPI says so.
      process.kill(status.supervisor.pid, 'SIGKILL');
      await waitFor('the supervisor gone', 15_000, async () =>
        (await readFile(`/proc/${status.supervisor.pid}/stat`, 'utf8').catch(() => ' (x) X'))
          .split(') ')[1]
          ?.match(/^[ZX]/)
          ? true
          : undefined,
      );
      assert.equal(
        await callCpi(cpi(), 'has_vm', [vmCid]),
        true,
        'a VM whose supervisor alone died still runs',
      );
      // Then everything of it (the host lost it; its records stay): has_vm is false.
      process.kill(status.init.pid, 'SIGKILL');
      process.kill(status.unshare.pid, 'SIGKILL');
      await waitFor('the CPI to see the VM gone', 15_000, async () =>
        (await callCpi(cpi(), 'has_vm', [vmCid])) === false ? true : undefined,
      );
      const report = await refit(['-d', 'dep', 'cck', '--report']);
      assert.notEqual(report.code, 0);
      assert.deepEqual(problemTypes(report), ['missing_vm']);
      assert.match(report.stdout, new RegExp(`with cloud ID '${vmCid}' missing\\.`));
      await ok(['-n', '-d', 'dep', 'cck', '--resolution', 'recreate_vm']);
      const now = await vmCids();
      assert.ok(now.get(instance) && now.get(instance) !== vmCid, 'a new VM');
      assert.equal(await diskOf(now.get(instance)!), disk, 'its disk re-attached');
      assert.equal(await checksum(disk), before, 'same persistent data');
      const vms = (await ok(['-d', 'dep', 'vms'])).stdout;
      assert.match(vms, new RegExp(`${instance}\\trunning\\t`));
      assert.deepEqual(problemTypes(await ok(['-d', 'dep', 'cck', '--report'])), []);
    });

    it('a scan while the deployment lock is held is refused at once', async () => {
      const recreating = refit(['-n', '-d', 'dep', 'recreate']);
      await waitFor('the deployment lock', 30_000, async () =>
        /deployment\tdep/.test((await refit(['locks'])).stdout) ? true : undefined,
      );
      const refused = await refit(['-d', 'dep', 'cck', '--report']);
      assert.notEqual(refused.code, 0);
      assert.match(
        refused.stdout + refused.stderr,
        /Unable to get deployment lock, maybe a deployment is in progress/,
      );
      assert.equal((await recreating).code, 0);
    });

    it('a disk deleted behind the director is missing_disk; delete_disk_reference forgets it', async () => {
      const cids = await vmCids();
      const [, vmCid] = [...cids.entries()].sort()[0]!;
      const disk = await diskOf(vmCid);
      await callCpi(cpi(), 'detach_disk', [vmCid, disk]);
      await callCpi(cpi(), 'delete_disk', [disk]);
      const report = await refit(['-d', 'dep', 'cck', '--report']);
      assert.deepEqual(problemTypes(report), ['missing_disk']);
      assert.match(report.stdout, new RegExp(`Disk '${disk}' \\(web/[0-9a-f-]{36}, 64M\\) is missing`));
      await ok(['-n', '-d', 'dep', 'cck', '--resolution', 'delete_disk_reference']);
      assert.deepEqual(problemTypes(await ok(['-d', 'dep', 'cck', '--report'])), []);
    });
  },
);
