import type { Migration } from '../db/db.ts';

/**
 * BOSH's `persistent_disks.active`: the new disk of a migration is recorded inactive right after
 * CPI `create_disk` (so a director that dies before the switch leaves it recorded, for cloud
 * check's `inactive_disk` and the next deploy), and becomes the instance's disk when the switch
 * flips the flags. Rows that exist already are active disks. An integer (1/0) as `instances.
 * update_completed` is, so the same statement runs on SQLite and PostgreSQL.
 */
export const persistentDiskActiveMigration: Migration = {
  id: '017-persistent-disk-active',
  up: () => [
    'ALTER TABLE persistent_disks ADD COLUMN active INTEGER NOT NULL DEFAULT 1',
    'CREATE INDEX persistent_disks_instance ON persistent_disks (instance_id)',
  ],
};
