import type { Migration } from '../db.ts';
import { idColumn } from '../migrate.ts';

/**
 * Generic stemcells (rootfs.tgz), Refit's addition, keyed by (name, version).
 *
 * `rootfs_reservations` says which rootfs a reload in progress needs. This feature only reads
 * it (a delete is refused while a row names the rootfs); the reload feature inserts a row
 * (`holder` = who needs it, e.g. `deployment:<name>` or `task:<id>`) before it starts handing
 * the rootfs to agents and deletes it when the reload ends.
 */
export const rootfsMigration: Migration = {
  id: '003-rootfs',
  up: (dialect) => [
    `CREATE TABLE rootfs (
      ${idColumn(dialect)},
      name TEXT NOT NULL,
      version TEXT NOT NULL,
      operating_system TEXT NOT NULL,
      api_version INTEGER NOT NULL,
      sha256 TEXT NOT NULL,
      size BIGINT NOT NULL,
      blobstore_id TEXT NOT NULL,
      created_at TEXT NOT NULL,
      UNIQUE (name, version)
    )`,
    `CREATE INDEX rootfs_os_version ON rootfs (operating_system, version)`,
    `CREATE TABLE rootfs_reservations (
      rootfs_id BIGINT NOT NULL,
      holder TEXT NOT NULL,
      created_at TEXT NOT NULL,
      PRIMARY KEY (rootfs_id, holder)
    )`,
  ],
};
