import { z } from 'zod';
import { OrphanDiskItem } from './orphan-disks.ts';

/** `POST /cleanup` body (BOSH's cleanup controller): what `clean-up [--all] [--keep-orphaned-disks]` asks. */
export const CleanupRequest = z.object({
  config: z
    .object({
      remove_all: z.boolean().default(false),
      keep_orphaned_disks: z.boolean().default(false),
    })
    .default({ remove_all: false, keep_orphaned_disks: false }),
});
export type CleanupRequest = z.infer<typeof CleanupRequest>;

/** `GET /orphaned_vms` element (BOSH's shape; Refit's leftover VMs of create-swap-delete). */
export const OrphanedVmAsRead = z.object({
  az: z.string().nullable(),
  cid: z.string(),
  deployment_name: z.string(),
  instance_name: z.string(),
  ip_addresses: z.array(z.string()),
  orphaned_at: z.string(),
});
export type OrphanedVmAsRead = z.infer<typeof OrphanedVmAsRead>;

/**
 * `GET /cleanup/dryrun?remove_all=&keep_orphaned_disks=`: what a clean-up would delete, in
 * BOSH's shape, plus Refit's generic stemcells (`rootfs`). Refit has no exported releases nor
 * DNS blobs: those lists are always empty.
 */
export const CleanupDryRun = z.object({
  releases: z.array(z.object({ name: z.string(), versions: z.array(z.string()) })),
  stemcells: z.array(
    z.object({
      name: z.string(),
      version: z.string(),
      operating_system: z.string(),
      cid: z.string(),
      cpi: z.string(),
      deployments: z.array(z.string()),
      id: z.number(),
    }),
  ),
  compiled_packages: z.array(
    z.object({ package_name: z.string(), stemcell_os: z.string(), stemcell_version: z.string() }),
  ),
  orphaned_disks: z.array(OrphanDiskItem),
  orphaned_vms: z.array(OrphanedVmAsRead),
  exported_releases: z.array(z.string()),
  dns_blobs: z.array(z.string()),
  rootfs: z
    .array(z.object({ name: z.string(), version: z.string(), operating_system: z.string() }))
    .default([]),
});
export type CleanupDryRun = z.infer<typeof CleanupDryRun>;
