import { access, mkdir, readFile, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { writeJsonFile } from '../state/json-file.ts';
import type { VmLayout } from '../state/layout.ts';
import { ensureAttachMount, restoreDiskMounts } from './attach-mounts.ts';
import { chooseRoot, type RootChoice, type StagedRootPolicy } from './staged-root.ts';
import { parseBoot, readOptional } from './supervisor-files.ts';

export class BootStepError extends Error {
  override name = 'BootStepError';
}

const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  );

export interface BootStepOptions extends StagedRootPolicy {
  readonly initPath: string;
  /** The number the coming boot will have (status.json `boots` + 1). */
  readonly bootNumber: number;
}

/**
 * Runs before every boot: picks the stemcell root from `boot.json` (falling back when it is
 * gone), then lets the staged-root step (OS reload) choose between a pending staged root, the
 * committed one and the stemcell root; resets the upper dir when the root changes (or when
 * boot.json asks), and makes sure the host-side attach mount exists (it does not survive a host
 * restart). Returns the choice.
 */
export async function runBootStep(vm: VmLayout, options: BootStepOptions): Promise<RootChoice> {
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
  await mkdir(vm.ephemeral, { recursive: true });
  const choice = await chooseRoot(vm, lower, options.initPath, options, options.bootNumber);
  if (boot.reset_upper || choice.resetUpper) {
    await rm(vm.upper, { recursive: true, force: true });
    await rm(vm.work, { recursive: true, force: true });
    if (boot.reset_upper) await writeJsonFile(vm.bootFile, { ...boot, reset_upper: false });
  }
  await Promise.all(
    [vm.upper, vm.work, vm.merged, vm.ephemeral, vm.configDrive].map((d) => mkdir(d, { recursive: true })),
  );
  if (await ensureAttachMount(vm)) {
    // vms/<cid> → the state dir's disks/
    await restoreDiskMounts(vm, basename(vm.dir), join(dirname(dirname(vm.dir)), 'disks'));
  }
  return choice;
}

/** The last lines of the VM's console, for error messages. */
export async function consoleTail(vm: VmLayout, lines = 8): Promise<string> {
  const text = await readFile(vm.consoleLog, 'utf8').catch(() => '');
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}
