import type { Migration } from '../db/db.ts';

/**
 * Persistent disks the director no longer attaches to any instance but keeps, as BOSH does
 * (`OrphanDiskManager#orphan_disk`): when an instance or its disk goes (scale-down, removed
 * group, delete-deployment, `persistent_disk` removed, the old disk of a migration) the disk is
 * detached and its row moves here. `instance_name` is `<group>/<uuid>`; `cloud_properties` is
 * JSON text; `created_at` (ISO 8601 UTC) is when it was orphaned.
 */
export const orphanDisksMigration: Migration = {
  id: '015-orphan-disks',
  up: () => [
    `CREATE TABLE orphan_disks (
      disk_cid TEXT PRIMARY KEY,
      size INTEGER NOT NULL,
      cloud_properties TEXT NOT NULL,
      availability_zone TEXT,
      deployment_name TEXT NOT NULL,
      instance_name TEXT NOT NULL,
      cpi TEXT,
      created_at TEXT NOT NULL
    )`,
    `CREATE INDEX orphan_disks_created_at ON orphan_disks (created_at)`,
  ],
};
