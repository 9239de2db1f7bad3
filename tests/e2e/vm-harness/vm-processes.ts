import { execFile } from 'node:child_process';
import { readFile, readdir, readlink } from 'node:fs/promises';
import { promisify } from 'node:util';

const run = promisify(execFile);

async function cmdline(pid: string): Promise<string> {
  return (await readFile(`/proc/${pid}/cmdline`, 'utf8')).replaceAll('\0', ' ').trim();
}

async function isZombie(pid: string): Promise<boolean> {
  return /^State:\s+Z/m.test(await readFile(`/proc/${pid}/status`, 'utf8'));
}

/** Host pids of live processes whose command line contains `needle`. */
export async function hostPidsWith(needle: string): Promise<number[]> {
  const found: number[] = [];
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid) || Number(pid) === process.pid) continue;
    try {
      if ((await cmdline(pid)).includes(needle) && !(await isZombie(pid))) found.push(Number(pid));
    } catch {
      /* gone */
    }
  }
  return found;
}

/**
 * The host pid of the VM's init: a `/sbin/refit-init` process in another pid namespace whose
 * hostname (UTS namespace) is one of `names`.
 */
export async function vmInitPid(names: readonly string[]): Promise<number | undefined> {
  const ours = await readlink('/proc/self/ns/pid');
  for (const pid of await hostPidsWith('/sbin/refit-init')) {
    try {
      if ((await readlink(`/proc/${pid}/ns/pid`)) === ours) continue;
      const { stdout } = await run('nsenter', ['-t', String(pid), '-u', 'hostname']);
      if (names.includes(stdout.trim())) return pid;
    } catch {
      /* gone */
    }
  }
  return undefined;
}

/**
 * Runs a shell command inside the VM whose init has host pid `pid` (its mount, pid, UTS and IPC
 * namespaces). Refuses unless `pid` is in another pid and mount namespace than this process,
 * so a command meant for a VM (like `reboot -f`) can never run on the host.
 */
export async function inVm(pid: number, script: string): Promise<string> {
  const [ourPid, ourMnt, theirPid, theirMnt] = await Promise.all([
    readlink('/proc/self/ns/pid'),
    readlink('/proc/self/ns/mnt'),
    readlink(`/proc/${pid}/ns/pid`),
    readlink(`/proc/${pid}/ns/mnt`),
  ]);
  if (ourPid === theirPid || ourMnt === theirMnt) throw new Error(`pid ${pid} is not in a VM's namespaces`);
  const { stdout } = await run(
    'nsenter',
    ['-t', String(pid), '-m', '-p', '-u', '-i', '--', '/bin/sh', '-c', script],
    {
      env: { PATH: '/var/vcap/bosh/bin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' },
    },
  );
  return stdout;
}

/** `busybox reboot -f` inside the VM: only if the VM's own pid 1 is refit-init. */
export async function rebootFromInside(pid: number): Promise<void> {
  try {
    await inVm(pid, 'grep -q refit-init /proc/1/cmdline || exit 42; exec /bin/busybox reboot -f');
  } catch (error) {
    // The rebooting namespace takes the command down with it; only the guard's refusal counts.
    if ((error as { code?: unknown }).code === 42)
      throw new Error(`pid ${pid}: the VM's pid 1 is not refit-init`);
  }
}
