import { spawn } from 'node:child_process';
import { open, readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { LocalVmStatus } from '@refit/protocol';
import { isSameAlive, processId, signalProcess, waitGone } from '../host/process.ts';
import { hostEnv } from '../host/run.ts';
import { readJsonFile } from '../state/json-file.ts';
import type { VmLayout } from '../state/layout.ts';

const mainPath = fileURLToPath(new URL('../main.ts', import.meta.url));

export class VmControlError extends Error {
  override name = 'VmControlError';
}

export function readStatus(vm: VmLayout): Promise<LocalVmStatus | null> {
  return readJsonFile(vm.statusFile, LocalVmStatus).catch(() => null);
}

async function waitStatus(
  vm: VmLayout,
  accept: (s: LocalVmStatus) => boolean,
  signal: AbortSignal,
): Promise<LocalVmStatus> {
  for (;;) {
    const status = await readStatus(vm);
    if (status !== null && accept(status)) return status;
    if (signal.aborted) {
      throw new VmControlError(`VM did not reach the expected state (last: ${status?.power ?? 'none'})`, {
        cause: signal.reason,
      });
    }
    await sleep(3);
  }
}

/** Waits for the boot in progress to end: running, or failed with the console's last lines. */
async function waitBooted(vm: VmLayout, minBoots: number, signal: AbortSignal): Promise<LocalVmStatus> {
  const status = await waitStatus(
    vm,
    (s) => (s.power === 'running' && s.boots >= minBoots) || s.power === 'failed' || s.power === 'stopped',
    signal,
  );
  if (status.power !== 'running') throw new VmControlError(status.message ?? `VM is ${status.power}`);
  return status;
}

/**
 * Starts the VM's supervisor, detached in its own session so it outlives this CPI call, and
 * waits until the VM's init runs.
 */
export async function startSupervisor(vm: VmLayout, signal: AbortSignal): Promise<LocalVmStatus> {
  const before = (await readStatus(vm))?.boots ?? 0;
  const log = await open(vm.supervisorLog, 'a');
  try {
    // Small heap limits: the supervisor holds almost nothing and lives as long as the VM.
    const flags = ['--max-old-space-size=32', '--max-semi-space-size=1'];
    const child = spawn(process.execPath, [...flags, mainPath, 'supervise', vm.dir], {
      detached: true,
      cwd: '/',
      stdio: ['ignore', log.fd, log.fd],
      env: hostEnv,
    });
    child.unref();
    const pid = child.pid;
    if (pid === undefined) throw new VmControlError('could not start the VM supervisor');
    const status = await waitStatus(vm, (s) => s.supervisor.pid === pid && s.power !== 'booting', signal);
    if (status.power !== 'running' || status.boots <= before) {
      throw new VmControlError(status.message ?? `VM is ${status.power}`);
    }
    return status;
  } finally {
    await log.close();
  }
}

/** Reboots from outside: the supervisor kills init, runs the boot step and boots again. */
export async function rebootVm(vm: VmLayout, signal: AbortSignal): Promise<LocalVmStatus> {
  const status = await readStatus(vm);
  if (status === null || !(await isSameAlive(status.supervisor))) {
    await killVmProcesses(status, signal);
    await killStrayBoots(vm, signal);
    return startSupervisor(vm, signal);
  }
  await signalProcess(status.supervisor, 'SIGUSR2');
  return waitBooted(vm, status.boots + 1, signal);
}

async function killVmProcesses(status: LocalVmStatus | null, signal: AbortSignal): Promise<void> {
  for (const id of [status?.init, status?.unshare]) {
    if (id && (await signalProcess(id, 'SIGKILL'))) await waitGone(id, signal);
  }
}

/**
 * A supervisor killed during a boot has not published its `unshare` yet: find it by the VM's
 * merged dir on its command line (the boot program's first argument) and kill it; its
 * `--kill-child` takes the VM's init, and so the whole PID namespace, with it.
 */
async function killStrayBoots(vm: VmLayout, signal: AbortSignal): Promise<void> {
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    const argv = await readFile(`/proc/${name}/cmdline`, 'utf8').catch(() => '');
    const args = argv.split('\0');
    if (!(args[0] ?? '').endsWith('unshare') || !args.includes(vm.merged)) continue;
    const id = await processId(Number(name));
    if (id !== null && (await signalProcess(id, 'SIGKILL'))) await waitGone(id, signal);
  }
}

/** Stops the supervisor and with it every process of the VM. Idempotent. */
export async function stopVm(vm: VmLayout, signal: AbortSignal): Promise<void> {
  const status = await readStatus(vm);
  if (status === null) return;
  if (await signalProcess(status.supervisor, 'SIGTERM')) {
    const polite = AbortSignal.any([signal, AbortSignal.timeout(15_000)]);
    try {
      await waitGone(status.supervisor, polite);
    } catch {
      await signalProcess(status.supervisor, 'SIGKILL');
      await waitGone(status.supervisor, signal);
    }
  }
  // A supervisor that died (or was killed above) may leave the VM running: kill it directly.
  await killVmProcesses(await readStatus(vm), signal);
  await killStrayBoots(vm, signal);
}
