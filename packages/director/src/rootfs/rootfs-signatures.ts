import type { Db } from '../db/db.ts';

/** The `rootfs_signatures` rows (migration 016): which key signed each stored rootfs blob. */
export class RootfsSignatures {
  readonly #db: Db;

  constructor(db: Db) {
    this.#db = db;
  }

  async record(blobstoreId: string, keyFingerprint: string): Promise<void> {
    await this.#db.execute(
      `INSERT INTO rootfs_signatures (blobstore_id, key_fingerprint) VALUES ($1, $2)
       ON CONFLICT (blobstore_id) DO UPDATE SET key_fingerprint = excluded.key_fingerprint`,
      [blobstoreId, keyFingerprint],
    );
  }

  /** Signing key fingerprint by blobstore id. */
  async byBlob(): Promise<Map<string, string>> {
    const rows = await this.#db.query<{ blobstore_id: string; key_fingerprint: string }>(
      'SELECT blobstore_id, key_fingerprint FROM rootfs_signatures',
    );
    return new Map(rows.map((r) => [String(r.blobstore_id), String(r.key_fingerprint)]));
  }
}
