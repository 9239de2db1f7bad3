import type { ConfigItem } from '@refit/protocol';
import type { Db, SqlValue } from '../db/db.ts';
import { ConfigIdMismatch } from '../errors.ts';

export interface ConfigRow {
  readonly id: number;
  readonly type: string;
  readonly name: string;
  readonly content: string;
  readonly team: string | null;
  readonly deleted: number;
  readonly created_ms: number;
}

/** Ruby's `Time#to_s` in UTC (`2026-11-24 20:31:25 UTC`), as BOSH prints `created_at`. */
export function rubyTime(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

export function configItem(row: ConfigRow, current: boolean): ConfigItem & { deleted: boolean } {
  return {
    id: String(row.id),
    name: row.name,
    type: row.type,
    content: row.content,
    created_at: rubyTime(row.created_ms),
    team: row.team,
    current,
    deleted: row.deleted !== 0,
  };
}

const LATEST = `deleted = 0 AND id = (SELECT MAX(id) FROM configs l WHERE l.type = configs.type AND l.name = configs.name AND l.deleted = 0)`;

/**
 * Versioned configs (cloud, runtime, cpi, any type): every update is a new row; the latest
 * row of a type/name that is not deleted is the current one (reference §1.7).
 */
export class ConfigStore {
  readonly #db: Db;
  readonly #now: () => number;
  constructor(db: Db, now: () => number = Date.now) {
    this.#db = db;
    this.#now = now;
  }

  async latest(type: string, name: string, db: Db = this.#db): Promise<ConfigRow | null> {
    const rows = await db.query<ConfigRow & Record<string, unknown>>(
      'SELECT * FROM configs WHERE type = $1 AND name = $2 AND deleted = 0 ORDER BY id DESC LIMIT 1',
      [type, name],
    );
    return rows[0] ?? null;
  }

  async get(id: number): Promise<ConfigRow | null> {
    const rows = await this.#db.query<ConfigRow & Record<string, unknown>>(
      'SELECT * FROM configs WHERE id = $1',
      [id],
    );
    return rows[0] ?? null;
  }

  /** Latest versions only (one per type/name) or the history, newest first. */
  async list(filter: {
    readonly type?: string;
    readonly name?: string;
    readonly latest: boolean;
    readonly limit?: number;
  }): Promise<{ row: ConfigRow; current: boolean }[]> {
    const where = filter.latest ? [LATEST] : ['deleted = 0'];
    const params: SqlValue[] = [];
    if (filter.type !== undefined) {
      params.push(filter.type);
      where.push(`type = $${params.length}`);
    }
    if (filter.name !== undefined) {
      params.push(filter.name);
      where.push(`name = $${params.length}`);
    }
    let sql = `SELECT *, CASE WHEN ${LATEST} THEN 1 ELSE 0 END AS is_current FROM configs WHERE ${where.join(' AND ')} ORDER BY id DESC`;
    if (filter.limit !== undefined) {
      params.push(filter.limit);
      sql += ` LIMIT $${params.length}`;
    }
    const rows = await this.#db.query<ConfigRow & { is_current: number } & Record<string, unknown>>(
      sql,
      params,
    );
    return rows.map(({ is_current, ...row }) => ({ row, current: is_current === 1 }));
  }

  /**
   * A new version, unless the content equals the latest's (then the latest, `created: false`).
   * `expectedLatestId` must name the current latest version ('0' or '' for none), else 412.
   */
  async create(input: {
    readonly type: string;
    readonly name: string;
    readonly content: string;
    readonly expectedLatestId?: string;
  }): Promise<{ row: ConfigRow; created: boolean }> {
    return this.#db.transaction(async (tx) => {
      const latest = await this.latest(input.type, input.name, tx);
      if (input.expectedLatestId !== undefined) {
        const actual = latest === null ? '0' : String(latest.id);
        const expected = input.expectedLatestId === '' ? '0' : input.expectedLatestId;
        if (actual !== expected) {
          throw new ConfigIdMismatch(
            `Config update failed: the latest '${input.type}' config '${input.name}' has id '${actual}', expected '${expected}'`,
          );
        }
      }
      if (latest !== null && latest.content === input.content) return { row: latest, created: false };
      const [row] = await tx.query<ConfigRow & Record<string, unknown>>(
        `INSERT INTO configs (type, name, content, team, deleted, created_ms) VALUES ($1, $2, $3, NULL, 0, $4)
         RETURNING *`,
        [input.type, input.name, input.content, this.#now()],
      );
      if (row === undefined) throw new Error('INSERT INTO configs returned nothing');
      return { row, created: true };
    });
  }

  /** Marks every version of type/name deleted; returns how many there were. */
  async delete(type: string, name: string): Promise<number> {
    const { rowCount } = await this.#db.execute(
      'UPDATE configs SET deleted = 1 WHERE type = $1 AND name = $2 AND deleted = 0',
      [type, name],
    );
    return rowCount;
  }
}
