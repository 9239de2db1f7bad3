import type { Migration } from '../db/db.ts';

/**
 * root.tar's sha256 (rootfs.MF `root_archive.sha256`) of each stored rootfs blob, as the upload
 * verified it: one row per blob (content addressed, like rootfs_signatures). A reload passes it
 * to `update_rootfs` so that a VM which still keeps that root (a rollback to its previous one)
 * stages it without a download. Blobs stored before this have no row (the agent then matches
 * its kept root by the rootfs.tgz digest alone).
 */
export const rootfsRootDigestsMigration: Migration = {
  id: '018-rootfs-root-digests',
  up: () => [
    `CREATE TABLE rootfs_root_digests (
      blobstore_id TEXT PRIMARY KEY,
      root_sha256 TEXT NOT NULL
    )`,
  ],
};
