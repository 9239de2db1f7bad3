import type { Migration } from './db.ts';
import { idColumn } from './migrate.ts';

/**
 * The director core's tables. Times are BIGINT milliseconds since the epoch (`*_ms`), booleans
 * 0/1, JSON values TEXT. `user` is reserved in PostgreSQL, hence `user_name`.
 */
export const coreMigration: Migration = {
  id: '001-core',
  up: (dialect) => [
    `CREATE TABLE director_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)`,
    `CREATE TABLE tasks (
      ${idColumn(dialect)},
      type TEXT NOT NULL,
      description TEXT NOT NULL,
      state TEXT NOT NULL,
      user_name TEXT NOT NULL,
      deployment TEXT,
      context_id TEXT NOT NULL DEFAULT '',
      params TEXT NOT NULL,
      locks TEXT NOT NULL,
      result TEXT,
      created_ms BIGINT NOT NULL,
      started_ms BIGINT,
      finished_ms BIGINT,
      checkpoint_ms BIGINT,
      runner TEXT
    )`,
    `CREATE INDEX tasks_state ON tasks (state, id)`,
    `CREATE INDEX tasks_context ON tasks (context_id)`,
    `CREATE TABLE task_locks (
      name TEXT PRIMARY KEY,
      task_id BIGINT NOT NULL,
      acquired_ms BIGINT NOT NULL,
      expires_ms BIGINT NOT NULL
    )`,
    `CREATE INDEX task_locks_task ON task_locks (task_id)`,
    `CREATE TABLE events (
      ${idColumn(dialect)},
      parent_id BIGINT,
      timestamp_ms BIGINT NOT NULL,
      user_name TEXT NOT NULL,
      action TEXT NOT NULL,
      object_type TEXT NOT NULL,
      object_name TEXT,
      task TEXT,
      deployment TEXT,
      instance TEXT,
      context TEXT NOT NULL,
      error TEXT
    )`,
    `CREATE INDEX events_timestamp ON events (timestamp_ms)`,
    `CREATE TABLE configs (
      ${idColumn(dialect)},
      type TEXT NOT NULL,
      name TEXT NOT NULL,
      content TEXT NOT NULL,
      team TEXT,
      deleted INTEGER NOT NULL DEFAULT 0,
      created_ms BIGINT NOT NULL
    )`,
    `CREATE INDEX configs_type_name ON configs (type, name, id)`,
  ],
};
