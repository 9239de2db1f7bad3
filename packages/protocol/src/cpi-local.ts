import { z } from 'zod';

/**
 * Files refit-cpi-local's CPI calls and its per-VM supervisor (a separate, long-lived process)
 * exchange through the VM's state directory.
 */

/** `boot.json`: which root tree the next boot uses (the boot step reads it before every boot). */
export const LocalVmBoot = z.object({
  /** The overlay's lower dir: a stemcell root tree (later: a staged root). */
  lower: z.string().min(1),
  /** Used when `lower` is missing or fails to boot. */
  fallback: z.string().min(1).nullable().default(null),
  /** Empty the overlay's upper dir before the next boot (a clean root), then clear this flag. */
  reset_upper: z.boolean().default(false),
});
export type LocalVmBoot = z.infer<typeof LocalVmBoot>;

export const LocalVmPower = z.enum(['booting', 'running', 'off', 'failed', 'stopped']);
export type LocalVmPower = z.infer<typeof LocalVmPower>;

/** A process identity that survives PID reuse: pid plus its start time (field 22 of stat). */
export const LocalProcessId = z.object({ pid: z.number().int().positive(), start: z.string() });
export type LocalProcessId = z.infer<typeof LocalProcessId>;

/** `status.json`, written only by the supervisor (atomically), read by CPI calls. */
export const LocalVmStatus = z.object({
  power: LocalVmPower,
  /** Completed boots: increases by one every time init is started. */
  boots: z.number().int().nonnegative(),
  supervisor: LocalProcessId,
  /** The `unshare` process (the supervisor's direct child) and the VM's init, while running. */
  unshare: LocalProcessId.nullable(),
  init: LocalProcessId.nullable(),
  lower: z.string().nullable(),
  /** How the previous boot ended: `reboot` (init died of SIGHUP), `poweroff` (SIGINT), … */
  last_exit: z.string().nullable(),
  message: z.string().nullable(),
  updated_at: z.string(),
});
export type LocalVmStatus = z.infer<typeof LocalVmStatus>;
