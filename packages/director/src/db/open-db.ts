import { join } from 'node:path';
import type { Db } from './db.ts';
import { PostgresDb } from './postgres-db.ts';
import { SqliteDb } from './sqlite-db.ts';

/** PostgreSQL when a URL is configured, else the embedded SQLite file `<stateDir>/director.db`. */
export function openDb(options: { readonly url: string | null; readonly stateDir: string }): Db {
  return options.url === null
    ? new SqliteDb(join(options.stateDir, 'director.db'))
    : new PostgresDb(options.url);
}
