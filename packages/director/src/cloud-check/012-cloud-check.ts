import type { Migration } from '../db/db.ts';
import { idColumn } from '../db/migrate.ts';

/**
 * Cloud check (reference §1.11, §4.8): the problems a scan found. `resource_id` is the instance
 * id (VM problems) or the disk CID (disk problems); `state` is `open`, `closed` (not seen by
 * the last scan) or `resolved`; `counter` counts the scans that found it.
 */
export const cloudCheckMigration: Migration = {
  id: '012-cloud-check',
  up: (dialect) => [
    `CREATE TABLE cloud_check_problems (
      ${idColumn(dialect)},
      deployment TEXT NOT NULL,
      type TEXT NOT NULL,
      resource_id TEXT NOT NULL,
      instance_id TEXT,
      data TEXT NOT NULL,
      state TEXT NOT NULL,
      counter INTEGER NOT NULL,
      created_at TEXT NOT NULL,
      last_seen_at TEXT NOT NULL
    )`,
    `CREATE INDEX cloud_check_problems_deployment ON cloud_check_problems (deployment, state)`,
  ],
};
