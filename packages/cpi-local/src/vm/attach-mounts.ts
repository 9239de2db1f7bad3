import { mkdir, readdir, readFile, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { isMountPoint } from '../host/mounts.ts';
import { runHost } from '../host/run.ts';
import type { VmLayout } from '../state/layout.ts';

/**
 * The VM's `attach/` dir is a host mount with shared propagation in its own peer group. Each
 * boot rbind-mounts it (as a slave) at /var/vcap/bosh/disks, so a disk bind-mounted under it on
 * the host appears inside the running VM at once, and disappears on detach: attach and detach
 * need no help from inside the VM. A new peer group first (make-private) so nothing else on the
 * host propagates.
 */
export async function ensureAttachMount(vm: VmLayout): Promise<boolean> {
  await mkdir(vm.attach, { recursive: true });
  if (await isMountPoint(vm.attach)) return false;
  await runHost('mount', ['--bind', vm.attach, vm.attach]);
  await runHost('mount', ['--make-private', vm.attach]);
  await runHost('mount', ['--make-shared', vm.attach]);
  return true;
}

/**
 * After a host restart the attach mount and its disk mounts are gone while disk.json still says
 * "attached": mount those disks again. Only then (a fresh attach mount), so a detach racing
 * with a reboot from inside is never undone.
 */
export async function restoreDiskMounts(vm: VmLayout, vmCid: string, disksDir: string): Promise<string[]> {
  const restored: string[] = [];
  for (const diskCid of await readdir(disksDir).catch(() => [] as string[])) {
    const text = await readFile(join(disksDir, diskCid, 'disk.json'), 'utf8').catch(() => null);
    if (text === null) continue;
    const record = JSON.parse(text) as { vm_cid?: unknown };
    if (record.vm_cid !== vmCid) continue;
    await mountDisk(vm, diskCid, join(disksDir, diskCid, 'data'));
    restored.push(diskCid);
  }
  return restored;
}

export async function mountDisk(vm: VmLayout, diskCid: string, diskData: string): Promise<void> {
  await ensureAttachMount(vm);
  const target = join(vm.attach, diskCid);
  await mkdir(target, { recursive: true });
  if (!(await isMountPoint(target))) await runHost('mount', ['--bind', diskData, target]);
}

export async function unmountDisk(vm: VmLayout, diskCid: string): Promise<void> {
  const target = join(vm.attach, diskCid);
  if (await isMountPoint(target)) await runHost('umount', [target]);
  await rmdir(target).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'ENOENT') throw error;
  });
}
