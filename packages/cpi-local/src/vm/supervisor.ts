import { spawn, type ChildProcess } from 'node:child_process';
import { open } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import type { LocalProcessId, LocalVmStatus } from '@refit/protocol';
import { childPids, processId, signalProcess } from '../host/process.ts';
import { hostEnv } from '../host/run.ts';
import { writeJsonFile } from '../state/json-file.ts';
import { VmLayout } from '../state/layout.ts';
import { unshareArgs } from './boot-script.ts';
import { consoleTail, runBootStep } from './boot-step.ts';
import { stillUncommitted } from './staged-root.ts';
import { parsePreviousStatus, parseSupervisedVm, readOptional } from './supervisor-files.ts';

type Command = 'reboot' | 'stop';
type BootEnd =
  | { kind: 'exit'; code: number | null; signal: NodeJS.Signals | null }
  | { kind: 'command'; command: Command };

/** Commands arrive as signals: SIGUSR2 = reboot (SIGUSR1 belongs to Node's inspector), SIGTERM = stop. */
class CommandQueue {
  private pending: Command[] = [];
  private waiter: ((c: Command) => void) | null = null;
  push(command: Command): void {
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = null;
      w(command);
    } else this.pending.push(command);
  }
  next(): Promise<Command> {
    const first = this.pending.shift();
    if (first !== undefined) return Promise.resolve(first);
    return new Promise((resolve) => (this.waiter = resolve));
  }
  cancelWait(): void {
    this.waiter = null;
  }
}

function exitOf(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  }
  return new Promise((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
    // unshare could not be started at all (e.g. missing): a boot that ended at once.
    child.once('error', () => resolve({ code: 127, signal: null }));
  });
}

function bootedLine(stream: Readable): Promise<boolean> {
  return new Promise((resolve) => {
    let text = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      text += chunk;
      if (text.includes('booted\n')) resolve(true);
    });
    stream.once('end', () => resolve(text.includes('booted\n')));
    stream.once('error', () => resolve(false));
  });
}

/** unshare reports how init ended: it re-raises init's fatal signal on itself. */
function describeExit(code: number | null, signal: NodeJS.Signals | null): string {
  if (signal === 'SIGHUP' || code === 129) return 'reboot';
  if (signal === 'SIGINT' || code === 130) return 'poweroff';
  return signal !== null ? `killed by ${signal}` : `exit status ${code}`;
}

/**
 * The VM's "hypervisor": a detached process that keeps `unshare` as its direct child (so an exit
 * is seen at once), boots the VM, boots it again after a reboot(2) inside (init dies of SIGHUP),
 * keeps it off after a poweroff until asked to reboot, and tears it down on SIGTERM.
 */
export async function runSupervisor(vmDir: string): Promise<void> {
  const vm = new VmLayout(vmDir);
  const vmText = await readOptional(vm.vmFile);
  if (vmText === null) throw new Error(`${vm.vmFile} is missing`);
  const record = parseSupervisedVm(vmText, vm.vmFile);
  const me = await processId(process.pid);
  if (me === null) throw new Error('cannot read own /proc entry');
  const previousText = await readOptional(vm.statusFile).catch(() => null);
  const previous =
    previousText === null
      ? null
      : (() => {
          try {
            return parsePreviousStatus(previousText);
          } catch {
            return null;
          }
        })();

  let status: LocalVmStatus = {
    power: 'booting',
    boots: previous?.boots ?? 0,
    supervisor: me,
    unshare: null,
    init: null,
    lower: null,
    last_exit: previous?.lastExit ?? null,
    message: null,
    updated_at: new Date().toISOString(),
  };
  const publish = async (patch: Partial<LocalVmStatus>) => {
    status = { ...status, ...patch, updated_at: new Date().toISOString() };
    await writeJsonFile(vm.statusFile, status);
  };

  const commands = new CommandQueue();
  process.on('SIGUSR2', () => commands.push('reboot'));
  process.on('SIGTERM', () => commands.push('stop'));
  process.on('SIGINT', () => commands.push('stop'));
  process.on('SIGHUP', () => undefined);

  const console_ = await open(vm.consoleLog, 'a');
  let bootAllowed = true;
  for (;;) {
    if (!bootAllowed) {
      const command = await commands.next();
      if (command === 'stop') break;
      bootAllowed = true;
    }
    await publish({ power: 'booting', unshare: null, init: null, message: null });
    let lower: string;
    let pending: Awaited<ReturnType<typeof runBootStep>>['pending'];
    try {
      const choice = await runBootStep(vm, {
        initPath: record.initPath,
        maxBootAttempts: record.maxBootAttempts,
        bootNumber: status.boots + 1,
      });
      lower = choice.lower;
      pending = choice.pending;
      for (const note of choice.notes) await console_.write(`refit-cpi-local boot step: ${note}\n`);
    } catch (error) {
      await publish({ power: 'failed', message: `boot step failed: ${(error as Error).message}` });
      bootAllowed = false;
      continue;
    }
    const child = spawn(
      'unshare',
      unshareArgs({
        merged: vm.merged,
        lower,
        upper: vm.upper,
        work: vm.work,
        ephemeral: vm.ephemeral,
        attach: vm.attach,
        configDrive: vm.configDrive,
        hostname: record.cid,
        hostBusybox: record.hostBusybox,
        initPath: record.initPath,
      }),
      { env: hostEnv, stdio: ['ignore', console_.fd, console_.fd, 'pipe'] },
    );
    const exited = exitOf(child);
    const unshareId: LocalProcessId | null = child.pid === undefined ? null : await processId(child.pid);
    const booted = await Promise.race([
      bootedLine(child.stdio[3] as Readable),
      exited.then(() => false),
      new Promise<false>((resolve) => setTimeout(() => resolve(false), record.bootTimeoutMs).unref()),
    ]);
    let init: LocalProcessId | null = null;
    if (booted && child.pid !== undefined) {
      const [initPid] = await childPids(child.pid);
      init = initPid === undefined ? null : await processId(initPid);
    }
    if (!booted || init === null) {
      child.kill('SIGKILL');
      const end = await exited;
      const tail = await consoleTail(vm);
      await publish({
        power: 'failed',
        last_exit: describeExit(end.code, end.signal),
        message: `boot failed (${describeExit(end.code, end.signal)}): ${tail}`,
      });
      // A staged root that does not boot: boot again at once (the boot step counts the
      // attempt and falls back to the previous root when they are used up). Never brick.
      bootAllowed = pending !== null;
      continue;
    }
    await publish({ power: 'running', boots: status.boots + 1, unshare: unshareId, init, lower });
    // A staged root on probation: reboot if the agent has not committed it by the deadline.
    const deadline =
      pending === null
        ? null
        : setTimeout(() => {
            void stillUncommitted(vm, pending).then((uncommitted) => {
              if (!uncommitted) return;
              void console_.write(
                `refit-cpi-local boot step: ${pending.version} not committed in time: rebooting\n`,
              );
              commands.push('reboot');
            });
          }, record.commitDeadlineMs);

    const end: BootEnd = await Promise.race([
      exited.then((e) => ({ kind: 'exit' as const, ...e })),
      commands.next().then((command) => ({ kind: 'command' as const, command })),
    ]);
    if (deadline !== null) clearTimeout(deadline);
    if (end.kind === 'exit') {
      commands.cancelWait();
      const how = describeExit(end.code, end.signal);
      await publish({
        power: how === 'reboot' ? 'booting' : 'off',
        unshare: null,
        init: null,
        last_exit: how,
      });
      bootAllowed = how === 'reboot';
      continue;
    }
    // Killing the PID namespace's init kills every process in the VM; unshare then exits.
    await signalProcess(init, 'SIGKILL');
    await exited;
    await publish({ power: 'off', unshare: null, init: null, last_exit: end.command });
    if (end.command === 'stop') break;
  }
  await publish({ power: 'stopped', unshare: null, init: null });
  await console_.close();
}
