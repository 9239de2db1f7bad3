// Cloud check against a real deployment: refit-director on its defaults (nats-server,
// refit-cpi-local VMs with the real agent), two instances with persistent disks, driven by the
// refit CLI. A frozen agent (SIGSTOP: the VM lives, its init sees nothing to restart) is
// unresponsive_agent and reboot_vm fixes it; a VM lost at the IaaS (its supervisor and every process
// SIGKILLed, its CPI records left: has_vm false) is missing_vm and recreate_vm brings it back with
// the same persistent data;
// a disk deleted behind the director's back is missing_disk, resolved by delete_disk_reference.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readlink, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { startDirector, type DirectorProcess } from '@refit/director/api/director-process.test-support.ts';
import { buildRelease } from '@refit/testkit/release/build-release.ts';
import { refitCli, rowsOf, type CliRun } from './support/refit-cli.ts';
import {
  buildStemcell,
  cpiOf,
  deleteHostVms,
  loopJob,
  oneAzCloudConfig,
  sha256,
  skipUnlessRoot,
  webManifest,
} from './support/vm-lab.ts';
import { callCpi } from './vm-harness/cpi-process.ts';
import { hostPidsWith, vmInitPid } from './vm-harness/vm-processes.ts';

const cloudConfig = oneAzCloudConfig(72);

const manifest = webManifest({ name: 'dep', stemcell: '1', releaseVersion: '1', watch: '1000-30000' });

async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('cck with real refit-cpi-local VMs', { timeout: 900_000, skip: skipUnlessRoot }, () => {
  let work = '';
  let director: DirectorProcess | undefined;
  const cpiState = () => join(work, 'director/cpi-local/state');
  const cpi = () => cpiOf(join(work, 'director'));
  const cli = refitCli(
    () => director!,
    () => work,
  );
  const refit = cli.run;
  const ok = cli.ok;
  /** `vms -d dep` piped: instance → VM CID. */
  const vmCids = async () =>
    new Map(rowsOf((await ok(['-d', 'dep', 'vms'])).stdout).map((r) => [r[0] ?? '', r[4] ?? '']));
  const diskOf = async (vmCid: string) => {
    const disks = (await callCpi(cpi(), 'get_disks', [vmCid])) as string[];
    assert.equal(disks.length, 1);
    return disks[0]!;
  };
  const checksum = async (diskCid: string) =>
    sha256(await readFile(join(cpiState(), 'disks', diskCid, 'data/web/data')));
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
  const problemTypes = (run: CliRun) =>
    [...run.stdout.matchAll(/(\d+)\t([a-z_]+)\t/g)].map((m) => m[2] ?? '').sort();

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'refit-cck-vms-'));
    await buildStemcell(work, '1', { name: 'refit-cck-e2e' });
    director = await startDirector({ stateDir: join(work, 'director'), readyTimeoutMs: 60_000 });
    const release = join(work, 'app-1.tgz');
    await writeFile(
      release,
      (
        await buildRelease({
          name: 'app',
          version: '1',
          jobs: [loopJob({ marker: 'refit-cck-e2e-web', withData: true })],
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
      await deleteHostVms(join(work, 'director'));
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
});
