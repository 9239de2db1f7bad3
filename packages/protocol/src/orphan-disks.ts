import { z } from 'zod';

/**
 * `GET /disks` element: an orphaned persistent disk, as BOSH's `list_orphan_disks` answers.
 * `orphaned_at` is Ruby's `Time#to_s` in UTC (`2026-01-09 06:23:25 UTC`).
 */
export const OrphanDiskItem = z.object({
  disk_cid: z.string(),
  size: z.number().int().nullable(),
  az: z.string().nullable(),
  deployment_name: z.string(),
  instance_name: z.string(),
  cloud_properties: z.record(z.string(), z.unknown()),
  orphaned_at: z.string(),
});
export type OrphanDiskItem = z.infer<typeof OrphanDiskItem>;
