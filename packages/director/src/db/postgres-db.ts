import pg from 'pg';
import { Dialect, type Db, type Row, type SqlValue } from './db.ts';

const INT8_OID = 20;
const NUMERIC_OID = 1700;

/** Integers come back as numbers (db.ts): bigint and numeric columns parsed with Number. */
const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary'): (value: string) => unknown {
    if (oid === INT8_OID || oid === NUMERIC_OID) return (value: string) => Number(value);
    return pg.types.getTypeParser(oid, format ?? 'text') as (value: string) => unknown;
  },
};

type Queryable = Pick<pg.Pool | pg.PoolClient, 'query'>;

async function runQuery<T extends Row>(client: Queryable, sql: string, params: readonly SqlValue[]) {
  const values = params.map((value) => (typeof value === 'bigint' ? value.toString() : value));
  return client.query<T>(sql, values);
}

/** PostgreSQL through a `pg` Pool, used when the config gives `db.url`. */
export class PostgresDb implements Db {
  readonly dialect = Dialect.postgres;
  readonly #pool: pg.Pool;

  constructor(url: string, options: { max?: number } = {}) {
    this.#pool = new pg.Pool({ connectionString: url, max: options.max ?? 10, types });
    // An idle client's error (server restart) must not crash the director; the next query fails instead.
    this.#pool.on('error', () => undefined);
  }

  async query<T extends Row = Row>(sql: string, params: readonly SqlValue[] = []): Promise<T[]> {
    return (await runQuery<T>(this.#pool, sql, params)).rows;
  }

  async execute(sql: string, params: readonly SqlValue[] = []): Promise<{ rowCount: number }> {
    return { rowCount: (await runQuery(this.#pool, sql, params)).rowCount ?? 0 };
  }

  async transaction<T>(fn: (tx: Db) => Promise<T>): Promise<T> {
    const client = await this.#pool.connect();
    let broken = false;
    try {
      await client.query('BEGIN');
      try {
        const result = await fn(clientView(client, 1));
        await client.query('COMMIT');
        return result;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => {
          broken = true;
        });
        throw error;
      }
    } finally {
      client.release(broken);
    }
  }

  async close(): Promise<void> {
    await this.#pool.end();
  }
}

function clientView(client: pg.PoolClient, depth: number): Db {
  return {
    dialect: Dialect.postgres,
    query: async <T extends Row = Row>(sql: string, params: readonly SqlValue[] = []) =>
      (await runQuery<T>(client, sql, params)).rows,
    execute: async (sql: string, params: readonly SqlValue[] = []) => ({
      rowCount: (await runQuery(client, sql, params)).rowCount ?? 0,
    }),
    transaction: async <T>(fn: (tx: Db) => Promise<T>) => {
      const savepoint = `sp${depth}`;
      await client.query(`SAVEPOINT ${savepoint}`);
      try {
        const result = await fn(clientView(client, depth + 1));
        await client.query(`RELEASE SAVEPOINT ${savepoint}`);
        return result;
      } catch (error) {
        await client.query(`ROLLBACK TO SAVEPOINT ${savepoint}`);
        throw error;
      }
    },
    close: () => Promise.reject(new Error('close() inside a transaction')),
  };
}
