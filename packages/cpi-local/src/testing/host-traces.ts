import { access, readdir, readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';

async function procText(pid: string, file: string): Promise<string> {
  return readFile(`/proc/${pid}/${file}`, 'utf8').catch(() => '');
}

/**
 * Live (non-zombie) processes whose command line mentions `needle`, or that live in another
 * mount namespace whose mount table mentions it (the processes inside a VM). The host's own
 * mount table is never used to pick processes: a host mount naming `needle` would otherwise
 * make every host process match.
 */
export async function processesMentioning(needle: string): Promise<string[]> {
  if (needle.length < 8) throw new Error(`refusing to look for processes mentioning '${needle}'`);
  const ownMountNs = await readlink('/proc/self/ns/mnt');
  const found: string[] = [];
  for (const pid of (await readdir('/proc')).filter((n) => /^\d+$/.test(n))) {
    if (pid === String(process.pid) || pid === '1') continue;
    const stat = await procText(pid, 'stat');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    if (stat === '' || state === 'Z' || state === 'X') continue;
    const cmdline = (await procText(pid, 'cmdline')).replaceAll('\0', ' ').trim();
    if (cmdline.includes(needle)) {
      found.push(`process ${pid}: ${cmdline.slice(0, 160)}`);
      continue;
    }
    const mountNs = await readlink(`/proc/${pid}/ns/mnt`).catch(() => ownMountNs);
    if (mountNs !== ownMountNs && (await procText(pid, 'mountinfo')).includes(needle)) {
      found.push(`process ${pid} in a VM mount namespace naming ${needle}: ${cmdline.slice(0, 80)}`);
    }
  }
  return found;
}

/**
 * Everything a refit-cpi-local VM can leave on the host: its directory, host mounts naming it,
 * and processes that belong to it (the supervisor, unshare, and every process inside the VM,
 * whose mount table names the VM's overlay dirs). Empty means the host is as before the VM.
 */
export async function vmHostTraces(stateDir: string, vmCid: string): Promise<string[]> {
  const traces: string[] = [];
  const dir = join(stateDir, 'vms', vmCid);
  if (
    await access(dir).then(
      () => true,
      () => false,
    )
  ) {
    traces.push(`directory ${dir}`);
  }
  for (const line of (await readFile('/proc/self/mountinfo', 'utf8')).split('\n')) {
    if (line.includes(vmCid)) traces.push(`host mount: ${line}`);
  }
  traces.push(...(await processesMentioning(vmCid)));
  return traces;
}
