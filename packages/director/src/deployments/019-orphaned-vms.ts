import type { Migration } from '../db/db.ts';

/**
 * `leftover_vms.orphaned_at`: set when an old VM of a `create-swap-delete` is orphaned after its
 * instance runs on the new VM (BOSH's `Models::OrphanedVm`). Only such rows are deleted by the
 * scheduled orphaned VM cleanup; a row without it (a replacement VM before its swap, or an old
 * VM whose swap did not finish) is the deployment's until the next deploy deletes it.
 */
export const orphanedVmsMigration: Migration = {
  id: '019-leftover-vms-orphaned-at',
  up: () => [`ALTER TABLE leftover_vms ADD COLUMN orphaned_at TEXT`],
};
