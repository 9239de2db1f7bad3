import { DatabaseSync, type SQLInputValue, type StatementSync } from 'node:sqlite';
import { AsyncMutex } from './async-mutex.ts';
import { Dialect, type Db, type Row, type SqlValue } from './db.ts';

/** `$1` → `?1`: SQL is written once with PostgreSQL placeholders (see db.ts). */
export function toSqlitePlaceholders(sql: string): string {
  return sql.replace(/\$(\d+)/g, '?$1');
}

/**
 * The embedded database: Node's built-in SQLite (`node:sqlite`), one file, WAL mode. DatabaseSync
 * is a single synchronous connection, so every statement and every transaction goes through one
 * async mutex: a transaction holds it from BEGIN to COMMIT, and statements from elsewhere wait.
 */
export class SqliteDb implements Db {
  readonly dialect = Dialect.sqlite;
  readonly #db: DatabaseSync;
  readonly #mutex = new AsyncMutex();
  readonly #statements = new Map<string, StatementSync>();
  #closed = false;

  constructor(file: string, options: { busyTimeoutMs?: number } = {}) {
    this.#db = new DatabaseSync(file);
    this.#db.exec(`PRAGMA busy_timeout = ${options.busyTimeoutMs ?? 5000}`);
    this.#db.exec('PRAGMA journal_mode = WAL');
    this.#db.exec('PRAGMA synchronous = NORMAL');
    this.#db.exec('PRAGMA foreign_keys = ON');
  }

  query<T extends Row = Row>(sql: string, params: readonly SqlValue[] = []): Promise<T[]> {
    return this.#mutex.run(() => this.#all<T>(sql, params));
  }

  execute(sql: string, params: readonly SqlValue[] = []): Promise<{ rowCount: number }> {
    return this.#mutex.run(() => this.#run(sql, params));
  }

  transaction<T>(fn: (tx: Db) => Promise<T>): Promise<T> {
    return this.#mutex.run(() => this.#inTransaction(fn, 0));
  }

  close(): Promise<void> {
    return this.#mutex.run(() => {
      if (this.#closed) return;
      this.#closed = true;
      this.#statements.clear();
      this.#db.close();
    });
  }

  #statement(sql: string): StatementSync {
    let statement = this.#statements.get(sql);
    if (statement === undefined) {
      // Queries built from filters vary; keep the cache bounded.
      if (this.#statements.size >= 500) this.#statements.clear();
      statement = this.#db.prepare(toSqlitePlaceholders(sql));
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  #all<T extends Row>(sql: string, params: readonly SqlValue[]): T[] {
    // Rows come with a null prototype: copy them into plain objects like pg's.
    const rows = this.#statement(sql).all(...(params as SQLInputValue[]));
    return rows.map((row) => ({ ...row }) as T);
  }

  #run(sql: string, params: readonly SqlValue[]): { rowCount: number } {
    const result = this.#statement(sql).run(...(params as SQLInputValue[]));
    return { rowCount: Number(result.changes) };
  }

  async #inTransaction<T>(fn: (tx: Db) => Promise<T>, depth: number): Promise<T> {
    const savepoint = `sp${depth}`;
    this.#db.exec(depth === 0 ? 'BEGIN IMMEDIATE' : `SAVEPOINT ${savepoint}`);
    const tx = this.#transactionView(depth);
    try {
      const result = await fn(tx);
      this.#db.exec(depth === 0 ? 'COMMIT' : `RELEASE ${savepoint}`);
      return result;
    } catch (error) {
      this.#db.exec(depth === 0 ? 'ROLLBACK' : `ROLLBACK TO ${savepoint}; RELEASE ${savepoint}`);
      throw error;
    }
  }

  /** The handle given to a transaction's callback: runs directly, since it holds the mutex. */
  #transactionView(depth: number): Db {
    return {
      dialect: this.dialect,
      query: <T extends Row = Row>(sql: string, params: readonly SqlValue[] = []) =>
        Promise.resolve(this.#all<T>(sql, params)),
      execute: (sql: string, params: readonly SqlValue[] = []) => Promise.resolve(this.#run(sql, params)),
      transaction: <T>(fn: (tx: Db) => Promise<T>) => this.#inTransaction(fn, depth + 1),
      close: () => Promise.reject(new Error('close() inside a transaction')),
    };
  }
}
