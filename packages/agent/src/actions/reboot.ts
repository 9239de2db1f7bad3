import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { RebootArgs } from '@refit/protocol';
import { errorMessage } from '../errors.ts';
import { defineAction, type ActionContext } from './action.ts';

const run = promisify(execFile);

/** reboot(2) of the VM: `busybox reboot -f` (in a refit-cpi-local VM, init dies of SIGHUP). */
export async function systemReboot(): Promise<void> {
  await run('sync', []).catch(() => undefined);
  try {
    await run('busybox', ['reboot', '-f']);
  } catch {
    await run('reboot', ['-f']);
  }
}

/** The default outside a VM (tests, a base dir other than /): never reboot the host. */
export function rebootRefused(): Promise<void> {
  return Promise.reject(new Error('reboot is not wired (not running as the VM agent)'));
}

/** Stops the jobs and unmounts the persistent disks before the machine goes (reboot or shutdown). */
export async function quiesceMachine(ctx: ActionContext, what: string): Promise<void> {
  try {
    await ctx.supervisor.stopAll(AbortSignal.timeout(5 * 60_000));
  } catch (error) {
    ctx.log.warn(`${what}: stopping jobs: ${errorMessage(error)}`);
  }
  for (const cid of await ctx.disks.list().catch(() => [] as string[])) {
    try {
      await run('sync', []).catch(() => undefined);
      await ctx.disks.unmount(cid);
    } catch (error) {
      ctx.log.warn(`${what}: unmounting ${cid}: ${errorMessage(error)}`);
    }
  }
  await run('sync', []).catch(() => undefined);
}

/** After the answer went out: stop jobs, unmount the persistent disk, flush, reboot. */
export async function rebootNow(ctx: ActionContext): Promise<void> {
  await quiesceMachine(ctx, 'reboot');
  ctx.log.info('reboot: rebooting the VM');
  await ctx.rebootMachine();
}

/** Answers first, then reboots the VM (the reply must leave before the VM goes down). */
export const reboot = defineAction({
  method: 'reboot',
  mode: 'sync',
  args: RebootArgs,
  run(ctx) {
    setTimeout(() => {
      rebootNow(ctx).catch((error: unknown) => ctx.log.error(`reboot failed: ${errorMessage(error)}`));
    }, 200);
    return Promise.resolve('rebooting' as const);
  },
});
