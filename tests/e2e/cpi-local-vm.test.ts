// refit-cpi-local's VM model beyond the shared suite: reboot(2) and poweroff from inside the VM,
// persistent data across both kinds of reboot, settings on the config drive, a lost supervisor,
// the latency model, and a host left exactly as it was.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { CpiErrorType, LocalVmStatus } from '@refit/protocol';
import { buildBusyboxStemcellImage } from '@refit/cpi-local/testing/busybox-stemcell.ts';
import { removeScratch } from '@refit/cpi-local/testing/cleanup.ts';
import { processesMentioning, vmHostTraces } from '@refit/cpi-local/testing/host-traces.ts';
import { CpiProcess } from '@refit/testkit/cpi-conformance/index.ts';

const run = promisify(execFile);
const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const cpiBin = join(repo, 'packages/cpi-local/bin/refit-cpi-local');
const timeout = 60_000;

async function eventually<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within 30 s`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('refit-cpi-local VMs', { skip: process.getuid?.() !== 0 ? 'needs root' : false }, () => {
  let scratch: string;
  let stateDir: string;
  let cpi: CpiProcess;
  let stemcell: string;
  let address = 20;

  const vmDir = (vm: string) => join(stateDir, 'vms', vm);
  const status = async (vm: string) =>
    LocalVmStatus.parse(JSON.parse(await readFile(join(vmDir(vm), 'status.json'), 'utf8')));
  const bootCount = async (vm: string) =>
    Number((await readFile(join(vmDir(vm), 'ephemeral/boot-count'), 'utf8').catch(() => '0')).trim());
  const waitBoot = (vm: string, n: number) =>
    eventually(`boot ${n} of ${vm}`, async () => ((await bootCount(vm)) >= n ? true : undefined));
  /** Runs a command inside the running VM (its mount and PID namespaces). */
  const inVm = async (vm: string, script: string) => {
    const init = (await status(vm)).init;
    assert.ok(init, 'the VM runs');
    const { stdout } = await run(
      'nsenter',
      ['-t', String(init.pid), '-m', '-p', '-u', '-i', '/bin/busybox', 'sh', '-c', script],
      {
        env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' },
      },
    );
    return stdout;
  };
  const createVm = async () => {
    address += 1;
    const networks = {
      default: { type: 'manual', ip: `127.0.2.${address}`, netmask: '255.255.255.0', cloud_properties: {} },
    };
    const [vm] = (await cpi.call('create_vm', [
      'agent-vm-test',
      stemcell,
      {},
      networks,
      [],
      { bosh: { group: 'g' } },
    ])) as [string];
    await waitBoot(vm, 1);
    return vm;
  };

  before(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'cpi-local-vm-'));
    stateDir = join(scratch, 'state');
    const configPath = join(scratch, 'cpi.json');
    await writeFile(
      configPath,
      JSON.stringify({
        state_dir: stateDir,
        agent: { mbus: 'nats://agent:pw@127.0.0.1:4222', blobstore: { provider: 'dav', options: {} } },
        delays: { has_disk: 150 },
      }),
    );
    cpi = new CpiProcess({ command: cpiBin, args: ['--config', configPath] });
    stemcell = (await cpi.call('create_stemcell', [await buildBusyboxStemcellImage(scratch), {}])) as string;
  });

  after(() => removeScratch(scratch));

  it('a reboot(2) inside the VM is seen by the supervisor and the VM comes back', { timeout }, async () => {
    const vm = await createVm();
    const first = await status(vm);
    await writeFile(join(vmDir(vm), 'ephemeral/reboot-request'), '');
    await waitBoot(vm, 2);
    const second = await eventually('running again', async () => {
      const s = await status(vm);
      return s.power === 'running' && s.boots === 2 ? s : undefined;
    });
    assert.equal(second.last_exit, 'reboot');
    assert.notEqual(second.init?.pid, first.init?.pid, 'a new init');
    assert.deepEqual(second.supervisor, first.supervisor, 'the same supervisor');
    await cpi.call('delete_vm', [vm]);
  });

  it(
    'persistent data survives reboot_vm and a reboot from inside; settings list the disk',
    { timeout },
    async () => {
      const vm = await createVm();
      const disk = (await cpi.call('create_disk', [10, {}, vm])) as string;
      const hint = (await cpi.call('attach_disk', [vm, disk])) as { path: string };
      assert.deepEqual(hint, { path: `/var/vcap/bosh/disks/${disk}` });
      await inVm(vm, `echo precious > ${hint.path}/payload`);
      const settings = JSON.parse(await inVm(vm, 'cat /var/vcap/bosh/settings.json'));
      assert.deepEqual(settings.disks.persistent, { [disk]: hint });
      assert.equal(settings.agent_id, 'agent-vm-test');
      assert.equal(settings.mbus, 'nats://agent:pw@127.0.0.1:4222');
      assert.equal(settings.env.bosh.group, 'g');

      await cpi.call('reboot_vm', [vm]);
      await waitBoot(vm, 2);
      assert.equal((await inVm(vm, `cat ${hint.path}/payload`)).trim(), 'precious');
      await writeFile(join(vmDir(vm), 'ephemeral/reboot-request'), '');
      await waitBoot(vm, 3);
      await eventually('running', async () => ((await status(vm)).power === 'running' ? true : undefined));
      assert.equal((await inVm(vm, `cat ${hint.path}/payload`)).trim(), 'precious');
      // The init appends each boot to every attached disk: boots 2 and 3 saw the disk.
      assert.equal((await inVm(vm, `cat ${hint.path}/boots`)).trim(), 'boot 2\nboot 3');

      await cpi.call('detach_disk', [vm, disk]);
      assert.equal((await inVm(vm, `ls /var/vcap/bosh/disks`)).trim(), '', 'gone from the running VM');
      assert.deepEqual(JSON.parse(await inVm(vm, 'cat /var/vcap/bosh/settings.json')).disks.persistent, {});
      assert.equal((await cpi.failure('detach_disk', [vm, disk])).type, CpiErrorType.DiskNotAttached);
      await cpi.call('delete_vm', [vm]);
      assert.equal(
        (await readFile(join(stateDir, 'disks', disk, 'data', 'payload'), 'utf8')).trim(),
        'precious',
        'the disk keeps its data after the VM is gone',
      );
      await cpi.call('delete_disk', [disk]);
    },
  );

  it('init runs with PATH only, in its own hostname, as pid 1', { timeout }, async () => {
    const vm = await createVm();
    const marker = (await readFile(join(vmDir(vm), 'ephemeral/boot-markers'), 'utf8')).trim();
    assert.match(marker, new RegExp(`^boot 1 pid=1 host=${vm} `));
    const env = marker
      .slice(marker.indexOf('env=') + 4)
      .trim()
      .split(' ')
      .map((kv) => kv.split('=')[0])
      .sort();
    // PWD and SHLVL are set by the shell itself.
    assert.deepEqual(env, ['PATH', 'PWD', 'SHLVL']);
    assert.equal(
      (await inVm(vm, 'cat /proc/1/cmdline | tr "\\0" " "')).trim(),
      '/bin/busybox sh /sbin/refit-init',
    );
    await cpi.call('delete_vm', [vm]);
  });

  it('a poweroff inside keeps the VM off until reboot_vm', { timeout }, async () => {
    const vm = await createVm();
    await writeFile(join(vmDir(vm), 'ephemeral/poweroff-request'), '');
    const off = await eventually('off', async () => {
      const s = await status(vm);
      return s.power === 'off' ? s : undefined;
    });
    assert.equal(off.last_exit, 'poweroff');
    assert.equal(off.init, null);
    assert.equal(await cpi.call('has_vm', [vm]), true);
    await cpi.call('reboot_vm', [vm]);
    assert.equal((await status(vm)).power, 'running');
    await waitBoot(vm, 2);
    await cpi.call('delete_vm', [vm]);
    assert.deepEqual(await vmHostTraces(stateDir, vm), []);
  });

  it(
    'reboot_vm recovers a VM whose supervisor was killed; delete_vm still cleans up',
    { timeout },
    async () => {
      const vm = await createVm();
      const before_ = await status(vm);
      process.kill(before_.supervisor.pid, 'SIGKILL');
      await cpi.call('reboot_vm', [vm]);
      const after_ = await status(vm);
      assert.notEqual(after_.supervisor.pid, before_.supervisor.pid);
      assert.equal(after_.power, 'running');
      await waitBoot(vm, 2);
      await cpi.call('delete_vm', [vm]);
      assert.deepEqual(await vmHostTraces(stateDir, vm), []);
    },
  );

  it(
    'after a host restart (processes and host mounts gone) reboot_vm brings the VM back with its disk',
    { timeout },
    async () => {
      const vm = await createVm();
      const disk = (await cpi.call('create_disk', [10, {}, null])) as string;
      await cpi.call('attach_disk', [vm, disk]);
      await inVm(vm, `echo kept > /var/vcap/bosh/disks/${disk}/file`);
      const s = await status(vm);
      process.kill(s.supervisor.pid, 'SIGKILL');
      process.kill(s.init!.pid, 'SIGKILL');
      await eventually('VM gone', async () =>
        (await processesMentioning(vmDir(vm))).length === 0 ? true : undefined,
      );
      await run('umount', ['-R', join(vmDir(vm), 'attach')]);
      await cpi.call('reboot_vm', [vm]);
      await waitBoot(vm, 2);
      assert.equal((await inVm(vm, `cat /var/vcap/bosh/disks/${disk}/file`)).trim(), 'kept');
      await cpi.call('delete_vm', [vm]);
      assert.deepEqual(await vmHostTraces(stateDir, vm), []);
      await cpi.call('delete_disk', [disk]);
    },
  );

  it('delete_vm leaves the host as it was: processes, mounts, directories', { timeout }, async () => {
    const mountsOf = async () =>
      (await readFile('/proc/self/mountinfo', 'utf8')).split('\n').filter((l) => l.includes(scratch));
    const vmsBefore = await readdir(join(stateDir, 'vms'));
    const mountsBefore = await mountsOf();
    const processesBefore = await processesMentioning(scratch);
    const vm = await createVm();
    const disk = (await cpi.call('create_disk', [10, {}, null])) as string;
    await cpi.call('attach_disk', [vm, disk]);
    await cpi.call('reboot_vm', [vm]);
    assert.notDeepEqual(await vmHostTraces(stateDir, vm), [], 'the probe sees the VM while it runs');
    await cpi.call('delete_vm', [vm]);
    assert.deepEqual(await readdir(join(stateDir, 'vms')), vmsBefore);
    assert.deepEqual(await mountsOf(), mountsBefore);
    assert.deepEqual(await processesMentioning(scratch), processesBefore);
    assert.deepEqual(await vmHostTraces(stateDir, vm), []);
    await cpi.call('delete_disk', [disk]);
  });

  it('set_vm_metadata is printed by `refit-cpi-local tags`', { timeout }, async () => {
    const vm = await createVm();
    const tags = { director: 'd', deployment: 'dep', name: 'web/0', index: '0' };
    await cpi.call('set_vm_metadata', [vm, tags]);
    const { stdout } = await run(cpiBin, ['tags', vm, '--config', join(scratch, 'cpi.json')]);
    assert.deepEqual(JSON.parse(stdout), tags);
    await cpi.call('delete_vm', [vm]);
    await assert.rejects(run(cpiBin, ['tags', vm, '--config', join(scratch, 'cpi.json')]), /not found/);
  });

  it(
    'the boot step takes the lower dir from boot.json and falls back when it is gone',
    { timeout },
    async () => {
      const vm = await createVm();
      const bootFile = join(vmDir(vm), 'boot.json');
      const boot = JSON.parse(await readFile(bootFile, 'utf8'));
      await writeFile(
        bootFile,
        JSON.stringify({ lower: join(scratch, 'no-such-root'), fallback: boot.lower }),
      );
      await cpi.call('reboot_vm', [vm]);
      const s = await status(vm);
      assert.equal(s.power, 'running');
      assert.equal(s.lower, boot.lower);
      await cpi.call('delete_vm', [vm]);
    },
  );

  it(
    'a VM that cannot boot fails create_vm with VMCreationFailed and leaves nothing',
    { timeout },
    async () => {
      const image = join(scratch, 'broken.tgz');
      await run('tar', [
        '-C',
        join(scratch),
        '-czf',
        image,
        '--transform',
        's,^cpi.json$,sbin/refit-init,',
        'cpi.json',
      ]);
      const broken = (await cpi.call('create_stemcell', [image, {}])) as string;
      const roots = await readdir(join(stateDir, 'roots'));
      // Remove the unpacked root behind the CPI's back: the boot step then has no root to boot.
      const brokenRoot = JSON.parse(await readFile(join(stateDir, 'stemcells', `${broken}.json`), 'utf8'))
        .root as string;
      assert.ok(roots.some((r) => brokenRoot.endsWith(r)));
      await run('rm', ['-rf', brokenRoot]);
      const vmsBefore = await readdir(join(stateDir, 'vms'));
      const error = await cpi.failure('create_vm', [
        'agent-broken',
        broken,
        {},
        { n: { type: 'manual', ip: '127.0.2.250', cloud_properties: {} } },
        [],
        {},
      ]);
      assert.equal(error.type, CpiErrorType.VMCreationFailed);
      assert.match(error.message, /no-such-root|missing/);
      assert.deepEqual(await readdir(join(stateDir, 'vms')), vmsBefore);
      assert.deepEqual(await processesMentioning(join(stateDir, 'vms')), []);
      await cpi.call('delete_stemcell', [broken]);
    },
  );

  it(
    'parallel calls: six VMs created, given disks, rebooted and deleted at once',
    { timeout: 180_000 },
    async () => {
      const vms = await Promise.all(Array.from({ length: 6 }, () => createVm()));
      const disks = (await Promise.all(vms.map(() => cpi.call('create_disk', [10, {}, null])))) as string[];
      await Promise.all(vms.map((vm, i) => cpi.call('attach_disk', [vm, disks[i]])));
      // Everyone tries to take disk 0 as well: exactly its owner already has it, the others are refused.
      const grabs = await Promise.all(vms.slice(1).map((vm) => cpi.request('attach_disk', [vm, disks[0]])));
      assert.ok(grabs.every((r) => r.error?.type === CpiErrorType.CloudError));
      await Promise.all(vms.map((vm) => cpi.call('reboot_vm', [vm])));
      await Promise.all(vms.map((vm) => waitBoot(vm, 2)));
      for (const [i, vm] of vms.entries()) {
        assert.deepEqual(await cpi.call('get_disks', [vm]), [disks[i]]);
        assert.equal((await inVm(vm, `cat /var/vcap/bosh/disks/${disks[i]}/boots`)).trim(), 'boot 2');
      }
      await Promise.all(vms.map((vm) => cpi.call('delete_vm', [vm])));
      for (const vm of vms) assert.deepEqual(await vmHostTraces(stateDir, vm), []);
      await Promise.all(disks.map((disk) => cpi.call('delete_disk', [disk])));
    },
  );

  it(
    'stemcells of one image share a root tree, removed with the last stemcell using it',
    { timeout },
    async () => {
      const image = await buildBusyboxStemcellImage(scratch, { label: 'shared' });
      const [a, b] = (await Promise.all([
        cpi.call('create_stemcell', [image, {}]),
        cpi.call('create_stemcell', [image, {}]),
      ])) as [string, string];
      assert.notEqual(a, b);
      const rootOf = async (cid: string) =>
        JSON.parse(await readFile(join(stateDir, 'stemcells', `${cid}.json`), 'utf8')).root as string;
      const root = await rootOf(a);
      assert.equal(await rootOf(b), root);
      assert.ok(
        !(await readdir(join(stateDir, 'roots'))).some((n) => n.startsWith('.unpack-')),
        'no temporary dirs',
      );
      await cpi.call('delete_stemcell', [a]);
      await readFile(join(root, 'sbin/refit-init'), 'utf8'); // still there for b
      const [vm] = (await cpi.call('create_vm', [
        'agent-b',
        b,
        {},
        { n: { type: 'manual', ip: '127.0.2.251', cloud_properties: {} } },
        [],
        {},
      ])) as [string];
      await waitBoot(vm, 1);
      await cpi.call('delete_stemcell', [b]);
      await readFile(join(root, 'sbin/refit-init'), 'utf8'); // and for the VM still running on it
      await cpi.call('delete_vm', [vm]);
      // Another stemcell of the same image, deleted at once: now no user of the root is left.
      await cpi.call('delete_stemcell', [await cpi.call('create_stemcell', [image, {}])]);
      assert.ok(
        !(await readdir(join(stateDir, 'roots'))).includes(basename(root)),
        'the last user removes the root',
      );
    },
  );

  it('the latency model delays a method by the configured time', { timeout }, async () => {
    const started = performance.now();
    assert.equal(await cpi.call('has_disk', ['disk-00000000-0000-4000-8000-000000000000']), false);
    // A lower bound only: the CPI sleeps 150 ms before it runs has_disk.
    assert.ok(performance.now() - started >= 150);
  });
});
