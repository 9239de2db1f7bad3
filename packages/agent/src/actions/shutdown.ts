import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { z } from 'zod';
import { errorMessage } from '../errors.ts';
import { defineAction, type ActionContext } from './action.ts';
import { quiesceMachine } from './reboot.ts';

const run = promisify(execFile);

/**
 * Power-off of the VM: `busybox poweroff -f` (reboot(2) POWER_OFF; in a refit-cpi-local VM the
 * namespace's init dies of SIGINT and the VM stays off until deleted or rebooted).
 */
export async function systemPowerOff(): Promise<void> {
  await run('sync', []).catch(() => undefined);
  try {
    await run('busybox', ['poweroff', '-f']);
  } catch {
    await run('poweroff', ['-f']);
  }
}

/** The default outside a VM (tests, a base dir other than /): never power the host off. */
export function powerOffRefused(): Promise<void> {
  return Promise.reject(new Error('shutdown is not wired (not running as the VM agent)'));
}

/** After the answer went out: stop jobs, unmount persistent disks, flush, power off. */
export async function shutdownNow(ctx: ActionContext): Promise<void> {
  await quiesceMachine(ctx, 'shutdown');
  ctx.log.info('shutdown: powering the VM off');
  await ctx.powerOffMachine();
}

/**
 * BOSH's `shutdown` (the director sends it to the old VM of a create-swap-delete before the VM
 * is orphaned): answers first, then powers the VM off, so the reply leaves before the VM goes.
 */
export const shutdown = defineAction({
  method: 'shutdown',
  mode: 'sync',
  args: z.array(z.unknown()),
  run(ctx) {
    setTimeout(() => {
      shutdownNow(ctx).catch((error: unknown) => ctx.log.error(`shutdown failed: ${errorMessage(error)}`));
    }, 200);
    return Promise.resolve('shutdown' as const);
  },
});
