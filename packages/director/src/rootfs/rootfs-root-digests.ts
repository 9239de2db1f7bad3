import type { Db } from '../db/db.ts';

/** The `rootfs_root_digests` rows (migration 018): root.tar's sha256 of each stored rootfs blob. */
export class RootfsRootDigests {
  readonly #db: Db;

  constructor(db: Db) {
    this.#db = db;
  }

  async record(blobstoreId: string, rootSha256: string): Promise<void> {
    await this.#db.execute(
      `INSERT INTO rootfs_root_digests (blobstore_id, root_sha256) VALUES ($1, $2)
       ON CONFLICT (blobstore_id) DO UPDATE SET root_sha256 = excluded.root_sha256`,
      [blobstoreId, rootSha256],
    );
  }

  /** root.tar's sha256 by blobstore id. */
  async byBlob(): Promise<Map<string, string>> {
    const rows = await this.#db.query<{ blobstore_id: string; root_sha256: string }>(
      'SELECT blobstore_id, root_sha256 FROM rootfs_root_digests',
    );
    return new Map(rows.map((r) => [String(r.blobstore_id), String(r.root_sha256)]));
  }
}
