import { access, mkdir, readFile, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { writeJsonFile } from '../state/json-file.ts';
import type { VmLayout } from '../state/layout.ts';
import { ensureAttachMount, restoreDiskMounts } from './attach-mounts.ts';
import { parseBoot, readOptional } from './supervisor-files.ts';

export class BootStepError extends Error {
  override name = 'BootStepError';
}

const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  );

/**
 * Runs before every boot (the hook point for staged roots): picks the overlay's lower dir from
 * `boot.json` (falling back when it is gone), resets the upper dir when asked, and makes sure
 * the host-side attach mount exists (it does not survive a host restart). Returns the lower.
 */
export async function runBootStep(vm: VmLayout): Promise<string> {
  const text = await readOptional(vm.bootFile);
  if (text === null) throw new BootStepError(`${vm.bootFile} is missing`);
  const boot = parseBoot(text, vm.bootFile);
  let lower = boot.lower;
  if (!(await exists(lower))) {
    if (boot.fallback === null || !(await exists(boot.fallback))) {
      throw new BootStepError(`root ${lower} is missing and there is no usable fallback`);
    }
    lower = boot.fallback;
  }
  if (boot.reset_upper) {
    await rm(vm.upper, { recursive: true, force: true });
    await rm(vm.work, { recursive: true, force: true });
    await writeJsonFile(vm.bootFile, { ...boot, reset_upper: false });
  }
  await Promise.all(
    [vm.upper, vm.work, vm.merged, vm.ephemeral, vm.configDrive].map((d) => mkdir(d, { recursive: true })),
  );
  if (await ensureAttachMount(vm)) {
    // vms/<cid> → the state dir's disks/
    await restoreDiskMounts(vm, basename(vm.dir), join(dirname(dirname(vm.dir)), 'disks'));
  }
  return lower;
}

/** The last lines of the VM's console, for error messages. */
export async function consoleTail(vm: VmLayout, lines = 8): Promise<string> {
  const text = await readFile(vm.consoleLog, 'utf8').catch(() => '');
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}
