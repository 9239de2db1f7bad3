import type { Blobstore } from '../blobstore/blobstore.ts';
import type { Db } from '../db/db.ts';

/**
 * Whether any row still names a blob. Blobs are content addressed, so one blob may back
 * packages, jobs and compiled packages of several releases (and, in theory, a rootfs).
 */
export async function isBlobReferenced(db: Db, blobstoreId: string): Promise<boolean> {
  const [row] = await db.query<{ n: number }>(
    `SELECT
       (SELECT COUNT(*) FROM packages WHERE blobstore_id = $1) +
       (SELECT COUNT(*) FROM templates WHERE blobstore_id = $1) +
       (SELECT COUNT(*) FROM compiled_packages WHERE blobstore_id = $1) +
       (SELECT COUNT(*) FROM rootfs WHERE blobstore_id = $1) AS n`,
    [blobstoreId],
  );
  return Number(row?.n ?? 0) > 0;
}

/** Deletes each blob no row names any more; returns the ones deleted. */
export async function deleteUnreferencedBlobs(
  db: Db,
  blobstore: Blobstore,
  blobstoreIds: Iterable<string>,
): Promise<string[]> {
  const deleted: string[] = [];
  for (const id of new Set(blobstoreIds)) {
    if (await isBlobReferenced(db, id)) continue;
    await blobstore.delete(id);
    deleted.push(id);
  }
  return deleted;
}
