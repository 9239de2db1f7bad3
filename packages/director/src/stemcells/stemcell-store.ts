import type { Db, Row } from '../db/db.ts';

export interface StemcellRecord {
  readonly id: number;
  readonly name: string;
  readonly version: string;
  readonly operatingSystem: string;
  readonly cpi: string;
  readonly cid: string;
  readonly sha1: string;
  readonly apiVersion: number | null;
  readonly createdAt: string;
}

export type NewStemcell = Omit<StemcellRecord, 'id' | 'createdAt'>;

const columns = 'id, name, version, operating_system, cpi, cid, sha1, api_version, created_at';

/** The `stemcells` table and the `stemcell_usages` rows the deploy feature writes. */
export class StemcellStore {
  readonly #db: Db;

  constructor(db: Db) {
    this.#db = db;
  }

  async find(name: string, version: string, cpi: string): Promise<StemcellRecord | null> {
    const rows = await this.#db.query(
      `SELECT ${columns} FROM stemcells WHERE name = $1 AND version = $2 AND cpi = $3`,
      [name, version, cpi],
    );
    return rows[0] ? toRecord(rows[0]) : null;
  }

  /** Every CPI's copy of name/version (BOSH keeps one row per CPI). */
  async findAll(name: string, version: string): Promise<StemcellRecord[]> {
    const rows = await this.#db.query(
      `SELECT ${columns} FROM stemcells WHERE name = $1 AND version = $2 ORDER BY id`,
      [name, version],
    );
    return rows.map(toRecord);
  }

  async list(): Promise<StemcellRecord[]> {
    const rows = await this.#db.query(`SELECT ${columns} FROM stemcells ORDER BY name, version, id`);
    return rows.map(toRecord);
  }

  async insert(stemcell: NewStemcell): Promise<StemcellRecord> {
    const rows = await this.#db.query(
      `INSERT INTO stemcells (name, version, operating_system, cpi, cid, sha1, api_version, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING ${columns}`,
      [
        stemcell.name,
        stemcell.version,
        stemcell.operatingSystem,
        stemcell.cpi,
        stemcell.cid,
        stemcell.sha1,
        stemcell.apiVersion,
        new Date().toISOString(),
      ],
    );
    if (!rows[0]) throw new Error('INSERT INTO stemcells returned no row');
    return toRecord(rows[0]);
  }

  /** After `--fix` re-uploaded the image to the cloud. */
  async replaceCid(id: number, cid: string, sha1: string, apiVersion: number | null): Promise<void> {
    await this.#db.execute('UPDATE stemcells SET cid = $1, sha1 = $2, api_version = $3 WHERE id = $4', [
      cid,
      sha1,
      apiVersion,
      id,
    ]);
  }

  async delete(id: number): Promise<void> {
    await this.#db.execute('DELETE FROM stemcells WHERE id = $1', [id]);
  }

  /** Names of the deployments using a stemcell, sorted. */
  async deploymentsUsing(id: number): Promise<string[]> {
    const rows = await this.#db.query<{ deployment: string }>(
      'SELECT deployment FROM stemcell_usages WHERE stemcell_id = $1 ORDER BY deployment',
      [id],
    );
    return rows.map((r) => r.deployment);
  }

  /** Every usage row, as a map from stemcell id to sorted deployment names. */
  async allUsages(): Promise<Map<number, string[]>> {
    const rows = await this.#db.query<{ stemcell_id: number; deployment: string }>(
      'SELECT stemcell_id, deployment FROM stemcell_usages ORDER BY deployment',
    );
    const usages = new Map<number, string[]>();
    for (const row of rows) {
      const id = Number(row.stemcell_id);
      usages.set(id, [...(usages.get(id) ?? []), row.deployment]);
    }
    return usages;
  }
}

function toRecord(row: Row): StemcellRecord {
  return {
    id: Number(row.id),
    name: String(row.name),
    version: String(row.version),
    operatingSystem: String(row.operating_system),
    cpi: String(row.cpi),
    cid: String(row.cid),
    sha1: String(row.sha1),
    apiVersion: row.api_version === null || row.api_version === undefined ? null : Number(row.api_version),
    createdAt: String(row.created_at),
  };
}
