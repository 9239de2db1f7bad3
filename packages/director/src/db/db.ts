/** Values that cross into SQL. Booleans are stored as 0/1; JSON as text. */
export type SqlValue = string | number | bigint | null;
export type Row = Record<string, unknown>;

export const Dialect = { sqlite: 'sqlite', postgres: 'postgres' } as const;
export type Dialect = (typeof Dialect)[keyof typeof Dialect];

/**
 * The one query layer. SQL is written once with `$1, $2, …` placeholders and portable types
 * (INTEGER, BIGINT, TEXT; ids via `RETURNING id`); each adapter translates what it must.
 * Integers come back as JS numbers on both dialects.
 */
export interface Db {
  readonly dialect: Dialect;
  query<T extends Row = Row>(sql: string, params?: readonly SqlValue[]): Promise<T[]>;
  execute(sql: string, params?: readonly SqlValue[]): Promise<{ rowCount: number }>;
  /** Runs `fn` in one transaction; it commits when `fn` resolves and rolls back when it throws. */
  transaction<T>(fn: (tx: Db) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** One schema change, applied once and recorded. `up` gets the dialect for the few DDL differences. */
export interface Migration {
  readonly id: string;
  up(dialect: Dialect): readonly string[];
}
