import { mkdir, rmdir } from 'node:fs/promises';
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
export async function ensureAttachMount(vm: VmLayout): Promise<void> {
  await mkdir(vm.attach, { recursive: true });
  if (await isMountPoint(vm.attach)) return;
  await runHost('mount', ['--bind', vm.attach, vm.attach]);
  await runHost('mount', ['--make-private', vm.attach]);
  await runHost('mount', ['--make-shared', vm.attach]);
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
