import { z } from 'zod';

/**
 * The boot record a generic stemcell's `install` script writes inside the VM at
 * `/var/vcap/data/sys/boot/next.json` (first contract; the OS-reload issue finalises it): the
 * staged root to boot next and the root to fall back to. On refit-cpi-local the VM's supervisor
 * reads it from the VM's ephemeral disk before the next boot (packages/stemcell/README.md).
 */
export const RootfsBootRecord = z
  .object({
    format: z.literal(1),
    /** Absolute path, inside the VM, of the unpacked root.tar. */
    root: z.string().regex(/^\/[A-Za-z0-9._/+-]*$/, 'must be an absolute path of [A-Za-z0-9._/+-]'),
    name: z.string().min(1),
    version: z.string().min(1),
    operating_system: z.string().min(1),
    root_archive_sha256: z.string().regex(/^[0-9a-f]{64}$/),
    /** The init to run in the staged root. */
    init: z.string().startsWith('/'),
    fallback: z.object({ root: z.string().min(1), name: z.string(), version: z.string() }).strict(),
    boot_attempts_before_fallback: z.number().int().positive(),
  })
  .strict();
export type RootfsBootRecord = z.infer<typeof RootfsBootRecord>;
