import type { Db, Row } from '../db/db.ts';

export interface RootfsRecord {
  readonly id: number;
  readonly name: string;
  readonly version: string;
  readonly operatingSystem: string;
  readonly apiVersion: number;
  readonly sha256: string;
  readonly size: number;
  readonly blobstoreId: string;
  readonly createdAt: string;
}

export type NewRootfs = Omit<RootfsRecord, 'id' | 'createdAt'>;

const columns = 'id, name, version, operating_system, api_version, sha256, size, blobstore_id, created_at';

/** The `rootfs` table and the `rootfs_reservations` rows the reload feature writes. */
export class RootfsStore {
  readonly #db: Db;

  constructor(db: Db) {
    this.#db = db;
  }

  async find(name: string, version: string): Promise<RootfsRecord | null> {
    const rows = await this.#db.query(`SELECT ${columns} FROM rootfs WHERE name = $1 AND version = $2`, [
      name,
      version,
    ]);
    return rows[0] ? toRecord(rows[0]) : null;
  }

  async list(): Promise<RootfsRecord[]> {
    const rows = await this.#db.query(`SELECT ${columns} FROM rootfs ORDER BY name, version, id`);
    return rows.map(toRecord);
  }

  /**
   * The rootfs matching each (operating system, version), the most recently uploaded one when
   * several names share both. Keyed by `matchKey(os, version)`.
   */
  async byOperatingSystemAndVersion(): Promise<Map<string, RootfsRecord>> {
    const matches = new Map<string, RootfsRecord>();
    for (const record of (await this.#db.query(`SELECT ${columns} FROM rootfs ORDER BY id`)).map(toRecord)) {
      matches.set(matchKey(record.operatingSystem, record.version), record);
    }
    return matches;
  }

  async insert(rootfs: NewRootfs): Promise<RootfsRecord> {
    const rows = await this.#db.query(
      `INSERT INTO rootfs (name, version, operating_system, api_version, sha256, size, blobstore_id, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING ${columns}`,
      [
        rootfs.name,
        rootfs.version,
        rootfs.operatingSystem,
        rootfs.apiVersion,
        rootfs.sha256,
        rootfs.size,
        rootfs.blobstoreId,
        new Date().toISOString(),
      ],
    );
    if (!rows[0]) throw new Error('INSERT INTO rootfs returned no row');
    return toRecord(rows[0]);
  }

  /** After `--fix` stored the archive again. */
  async replaceBlob(id: number, blob: { sha256: string; size: number; blobstoreId: string }): Promise<void> {
    await this.#db.execute('UPDATE rootfs SET sha256 = $1, size = $2, blobstore_id = $3 WHERE id = $4', [
      blob.sha256,
      blob.size,
      blob.blobstoreId,
      id,
    ]);
  }

  async delete(id: number): Promise<void> {
    await this.#db.execute('DELETE FROM rootfs WHERE id = $1', [id]);
  }

  /** How many rootfs rows point at a blob (content addressed: two uploads may share one). */
  async countByBlob(blobstoreId: string): Promise<number> {
    const rows = await this.#db.query<{ n: number }>(
      'SELECT COUNT(*) AS n FROM rootfs WHERE blobstore_id = $1',
      [blobstoreId],
    );
    return Number(rows[0]?.n ?? 0);
  }

  /** Who holds a reservation on a rootfs (a reload in progress), sorted. */
  async reservationHolders(id: number): Promise<string[]> {
    const rows = await this.#db.query<{ holder: string }>(
      'SELECT holder FROM rootfs_reservations WHERE rootfs_id = $1 ORDER BY holder',
      [id],
    );
    return rows.map((r) => r.holder);
  }
}

export function matchKey(operatingSystem: string, version: string): string {
  return `${operatingSystem}\u0000${version}`;
}

function toRecord(row: Row): RootfsRecord {
  return {
    id: Number(row.id),
    name: String(row.name),
    version: String(row.version),
    operatingSystem: String(row.operating_system),
    apiVersion: Number(row.api_version),
    sha256: String(row.sha256),
    size: Number(row.size),
    blobstoreId: String(row.blobstore_id),
    createdAt: String(row.created_at),
  };
}
