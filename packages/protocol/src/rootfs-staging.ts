import { z } from 'zod';

/**
 * OS reload contracts: the agent's `update_rootfs` and `reboot` methods, and the boot state file
 * the VM's boot step and the agent share on the ephemeral disk.
 */

/**
 * `update_rootfs`'s optional third argument. `force`: stage into a fresh root directory even
 * when the same root is already staged or running (`recreate --strategy reload` repairing a
 * drifted root); the next boot then boots that fresh copy. The director sends the options on
 * every reload (with `version`); agents from before this argument refuse a third argument.
 */
export const UpdateRootfsOptions = z.object({
  force: z.boolean().optional(),
  /**
   * The stemcell version the director stages: the agent refuses it before downloading when it
   * is older than the booted version, and refuses a rootfs.MF of another version.
   */
  version: z.string().min(1).optional(),
  /** Stage a root older than the booted one (`deploy --allow-downgrade`); refused otherwise. */
  allow_downgrade: z.boolean().optional(),
  /**
   * root.tar's sha256 (rootfs.MF `root_archive.sha256`) as the director's upload verified it.
   * When the VM still has that root complete as its `previous` or `current` root, the agent
   * stages it from the rootfs.MF, install and rootfs.MF.sig it kept beside it (re-verified):
   * a rollback costs one reboot and no download.
   */
  root_archive_sha256: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .optional(),
});
export type UpdateRootfsOptions = z.infer<typeof UpdateRootfsOptions>;

/** `update_rootfs(blobstore_id, multi_digest[, options])`: stage a generic stemcell (rootfs.tgz). */
export const UpdateRootfsArgs = z.tuple([
  z.string().min(1),
  z.string().min(1),
  UpdateRootfsOptions.optional(),
]);
export type UpdateRootfsArgs = z.infer<typeof UpdateRootfsArgs>;

export const RootfsStagingPhase = z.enum(['downloading', 'verifying', 'unpacking', 'installing', 'staged']);
export type RootfsStagingPhase = z.infer<typeof RootfsStagingPhase>;

/** What `get_task` answers while `update_rootfs` runs (`{"value": {"state": "running", ...}}`). */
export const UpdateRootfsProgress = z.object({
  phase: RootfsStagingPhase,
  /** Bytes of the current phase done: the download's bytes, then root.tar's bytes unpacked. */
  bytes_done: z.number().int().nonnegative(),
  bytes_total: z.number().int().nonnegative().nullable(),
  /** Bytes read from the blobstore so far, retries included. */
  bytes_fetched: z.number().int().nonnegative(),
  version: z.string().nullable(),
});
export type UpdateRootfsProgress = z.infer<typeof UpdateRootfsProgress>;

/** The final value of `update_rootfs`. */
export const UpdateRootfsResult = z.object({
  version: z.string(),
  /** sha256 of root.tar: the root's digest. */
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  /** Where the root was unpacked, inside the VM. */
  staged_root: z.string().startsWith('/'),
  /** True when that root was already staged and installed: nothing was downloaded. */
  already_staged: z.boolean(),
  bytes_fetched: z.number().int().nonnegative(),
  /** True when a kept root (`previous`/`current`) was staged again from its kept files. */
  reused_kept_root: z.boolean().optional(),
});
export type UpdateRootfsResult = z.infer<typeof UpdateRootfsResult>;

export const RebootArgs = z.tuple([]);
/** `reboot` answers before it acts. */
export const RebootResult = z.literal('rebooting');

/** In-VM path of the boot state file (on the ephemeral disk, so it survives a root swap). */
export const BOOT_STATE_PATH = '/var/vcap/data/sys/boot/state.json';
/** In-VM path of the record the stemcell's `install` script writes (protocol `RootfsBootRecord`). */
export const BOOT_NEXT_PATH = '/var/vcap/data/sys/boot/next.json';
/** Where agents unpack staged roots (content addressed by root.tar's sha256). */
export const STAGED_ROOTS_DIR = '/var/vcap/data/rootfs/roots';

/** A root: `root: null` is the VM's own stemcell root (what the IaaS booted it from). */
export const BootRoot = z.object({
  root: z
    .string()
    .regex(/^\/var\/vcap\/data\/[A-Za-z0-9._/+-]+$/)
    .refine((p) => !p.split('/').includes('..'), 'no .. segments')
    .nullable(),
  name: z.string(),
  version: z.string(),
  root_archive_sha256: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .nullable(),
});
export type BootRoot = z.infer<typeof BootRoot>;

/**
 * `/var/vcap/data/sys/boot/state.json`. Written by the boot step (before each boot, while no VM
 * process runs) and by the agent (only `commit`: pending → current), always atomically (rename).
 */
export const RootfsBootState = z.object({
  format: z.literal(1),
  /** The committed root: what boots when nothing is pending. */
  current: BootRoot,
  /** The root committed before `current`: kept on disk until the next commit. */
  previous: BootRoot.nullable(),
  /** A staged root not committed yet: boot attempts so far and the limit. */
  pending: BootRoot.extend({
    attempts: z.number().int().nonnegative(),
    max_attempts: z.number().int().positive(),
  }).nullable(),
  /** What the last boot step booted, and whether it was the pending or the current root. */
  booted: BootRoot.extend({
    kind: z.enum(['current', 'pending']),
    boot: z.number().int().nonnegative(),
    at: z.string(),
  }).nullable(),
  /** Staged roots the boot step gave up on (most recent last, at most 10). */
  abandoned: z.array(BootRoot.extend({ reason: z.string(), at: z.string() })),
  committed_at: z.string().nullable(),
});
export type RootfsBootState = z.infer<typeof RootfsBootState>;
