import { z } from 'zod';

/**
 * Persistent disk migration (reference §4.4, a `persistent_disk` change): the agent's
 * `migrate_disk(old_disk_cid, new_disk_cid)`. The director has created the new disk, attached it
 * and told the agent its hint (`add_persistent_disk`); the agent copies /var/vcap/store onto the
 * new disk and mounts the new disk there in place of the old one. BOSH's agent takes the same two
 * CIDs (the Go agent ignores them and migrates whatever is mounted); Refit's agent uses them.
 */
export const MigrateDiskArgs = z.tuple([z.string().min(1), z.string().min(1)]);
export type MigrateDiskArgs = z.infer<typeof MigrateDiskArgs>;

/** The final value: the disk /var/vcap/store is now (BOSH's agent answers `{}`, hence optional). */
export const MigrateDiskResult = z.object({ mounted: z.string().optional() }).passthrough();
export type MigrateDiskResult = z.infer<typeof MigrateDiskResult>;
