import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { Dialect, type Db, type Migration } from './db.ts';
import { runMigrations } from './migrate.ts';
import { PostgresDb } from './postgres-db.ts';
import { SqliteDb } from './sqlite-db.ts';

/** A fresh, empty database for one test; `cleanup` closes and removes it. */
export interface TestDatabase {
  readonly db: Db;
  /** The PostgreSQL URL of this database, or null for SQLite. */
  readonly url: string | null;
  /** The SQLite file, or null for PostgreSQL. */
  readonly file: string | null;
  cleanup(): Promise<void>;
}

export interface TestBackend {
  readonly name: Dialect;
  /** Set when the backend is unavailable here: pass it as `describe(name, { skip })`. */
  readonly skip: string | false;
  create(options?: { readonly migrations?: readonly Migration[] }): Promise<TestDatabase>;
}

/** A database `refit_test_<random>` on the server at REFIT_TEST_PG_URL, dropped by `drop`. */
export async function createPostgresDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const adminUrl = process.env.REFIT_TEST_PG_URL;
  if (adminUrl === undefined || adminUrl === '') throw new Error('REFIT_TEST_PG_URL is not set');
  const name = `refit_test_${randomBytes(6).toString('hex')}`;
  await withAdmin(adminUrl, (admin) => admin.query(`CREATE DATABASE ${name}`));
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: () => withAdmin(adminUrl, (admin) => admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)),
  };
}

async function withAdmin(url: string, fn: (client: pg.Client) => Promise<unknown>): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await fn(client);
  } finally {
    await client.end();
  }
}

/**
 * Both backends for the director's tests: SQLite always; PostgreSQL when REFIT_TEST_PG_URL is set
 * (`scripts/with-postgres` sets it). Under CI a missing PostgreSQL is an error, not a skip.
 */
export function testBackends(): TestBackend[] {
  const pgUrl = process.env.REFIT_TEST_PG_URL;
  const havePg = pgUrl !== undefined && pgUrl !== '';
  if (!havePg && process.env.CI !== undefined && process.env.CI !== '') {
    throw new Error('CI is set but REFIT_TEST_PG_URL is not: run the tests through scripts/with-postgres');
  }
  return [
    {
      name: Dialect.sqlite,
      skip: false,
      async create(options = {}) {
        const dir = await mkdtemp(join(tmpdir(), 'refit-db-'));
        const file = join(dir, 'test.db');
        const db = new SqliteDb(file);
        await runMigrations(db, options.migrations ?? []);
        return {
          db,
          url: null,
          file,
          async cleanup() {
            await db.close();
            await rm(dir, { recursive: true, force: true });
          },
        };
      },
    },
    {
      name: Dialect.postgres,
      skip: havePg ? false : 'REFIT_TEST_PG_URL is not set (run through scripts/with-postgres)',
      async create(options = {}) {
        const database = await createPostgresDatabase();
        const db = new PostgresDb(database.url, { max: 4 });
        await runMigrations(db, options.migrations ?? []);
        return {
          db,
          url: database.url,
          file: null,
          async cleanup() {
            await db.close();
            await database.drop();
          },
        };
      },
    },
  ];
}
