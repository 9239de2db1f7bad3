import type { Migration } from '../db/db.ts';

/**
 * Which key signed a stored rootfs.tgz (Refit's signed generic stemcells): one row per blob
 * (blobs are content addressed, so a signature is a fact about the blob), written by the
 * upload when rootfs.MF.sig verified against a trusted key; `GET /rootfs` shows it. Unsigned
 * blobs have no row. A row whose blob is gone is ignored.
 */
export const rootfsSignaturesMigration: Migration = {
  id: '016-rootfs-signatures',
  up: () => [
    `CREATE TABLE rootfs_signatures (
      blobstore_id TEXT PRIMARY KEY,
      key_fingerprint TEXT NOT NULL
    )`,
  ],
};
