import type { TaskJson, TaskState } from '@refit/protocol';
import { Dialect, type Db, type SqlValue } from '../db/db.ts';

export interface TaskRow {
  readonly id: number;
  readonly type: string;
  readonly description: string;
  readonly state: TaskState;
  readonly user_name: string;
  readonly deployment: string | null;
  readonly context_id: string;
  readonly params: string;
  readonly locks: string;
  readonly result: string | null;
  readonly created_ms: number;
  readonly started_ms: number | null;
  readonly finished_ms: number | null;
  readonly checkpoint_ms: number | null;
  readonly runner: string | null;
}

/** The task types `GET /tasks?verbose=1` shows (BOSH's list, plus Refit's rootfs tasks). */
export const VERBOSE_1_TYPES: readonly string[] = [
  'attach_disk',
  'create_snapshot',
  'delete_deployment',
  'delete_release',
  'delete_snapshot',
  'delete_stemcell',
  'run_errand',
  'snapshot_deployment',
  'update_instance',
  'update_deployment',
  'update_release',
  'update_stemcell',
  'export_release',
  'update_rootfs',
  'delete_rootfs',
];

export interface TaskFilter {
  readonly states?: readonly string[];
  readonly types?: readonly string[];
  readonly deployment?: string;
  readonly contextId?: string;
  readonly limit?: number;
}

export interface NewTask {
  readonly type: string;
  readonly description: string;
  readonly user: string;
  readonly deployment: string | null;
  readonly contextId: string;
  readonly params: unknown;
  readonly locks: readonly string[];
}

const seconds = (ms: number | null) => (ms === null ? null : Math.floor(ms / 1000));

export function taskJson(row: TaskRow): TaskJson {
  return {
    id: row.id,
    state: row.state,
    description: row.description,
    timestamp: seconds(row.finished_ms),
    started_at: seconds(row.started_ms),
    result: row.result,
    user: row.user_name,
    deployment: row.deployment,
    context_id: row.context_id,
  };
}

/** BOSH keeps a task's result short: 128 characters at most, `...` marking a cut. */
export function truncateResult(text: string, max = 128): string {
  const trimmed = text.trim();
  return trimmed.length <= max ? trimmed : `${trimmed.slice(0, max - 3)}...`;
}

const ACTIVE = ['processing', 'cancelling'];

/** Tasks and their locks in the database: every statement the queue, runner and API need. */
export class TaskStore {
  readonly #db: Db;
  constructor(db: Db) {
    this.#db = db;
  }

  async insert(task: NewTask, nowMs: number): Promise<number> {
    const [row] = await this.#db.query<{ id: number }>(
      `INSERT INTO tasks (type, description, state, user_name, deployment, context_id, params, locks, created_ms)
       VALUES ($1, $2, 'queued', $3, $4, $5, $6, $7, $8) RETURNING id`,
      [
        task.type,
        task.description,
        task.user,
        task.deployment,
        task.contextId,
        JSON.stringify(task.params ?? null),
        JSON.stringify(task.locks),
        nowMs,
      ],
    );
    if (row === undefined) throw new Error('INSERT INTO tasks returned no id');
    return row.id;
  }

  async get(id: number): Promise<TaskRow | null> {
    const rows = await this.#db.query<TaskRow & Record<string, unknown>>(
      'SELECT * FROM tasks WHERE id = $1',
      [id],
    );
    return rows[0] ?? null;
  }

  async list(filter: TaskFilter): Promise<TaskRow[]> {
    const where: string[] = [];
    const params: SqlValue[] = [];
    const inList = (column: string, values: readonly string[]) => {
      const marks = values.map((value) => {
        params.push(value);
        return `$${params.length}`;
      });
      where.push(marks.length === 0 ? '1 = 0' : `${column} IN (${marks.join(', ')})`);
    };
    if (filter.states !== undefined) inList('state', filter.states);
    if (filter.types !== undefined) inList('type', filter.types);
    if (filter.deployment !== undefined) {
      params.push(filter.deployment);
      where.push(`deployment = $${params.length}`);
    }
    if (filter.contextId !== undefined) {
      params.push(filter.contextId);
      where.push(`context_id = $${params.length}`);
    }
    let sql = `SELECT * FROM tasks${where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC`;
    if (filter.limit !== undefined) {
      params.push(filter.limit);
      sql += ` LIMIT $${params.length}`;
    }
    return this.#db.query<TaskRow & Record<string, unknown>>(sql, params);
  }

  /**
   * Claims the oldest queued task whose locks are all free, takes its locks and marks it
   * `processing`, in one transaction. On PostgreSQL candidate rows are read `FOR UPDATE SKIP
   * LOCKED`, so directors sharing the database never claim the same task; a lock another
   * transaction takes first makes the savepoint roll back and the next candidate is tried.
   */
  async claim(runner: string, nowMs: number, lockTtlMs: number): Promise<TaskRow | null> {
    return this.#db.transaction(async (tx) => {
      const skipLocked = tx.dialect === Dialect.postgres ? ' FOR UPDATE SKIP LOCKED' : '';
      const candidates = await tx.query<{ id: number; locks: string }>(
        `SELECT id, locks FROM tasks WHERE state = 'queued' ORDER BY id LIMIT 200${skipLocked}`,
      );
      for (const candidate of candidates) {
        const names = JSON.parse(candidate.locks) as string[];
        const locked = await tx
          .transaction(async (sp) => {
            for (const name of names) {
              const { rowCount } = await sp.execute(
                `INSERT INTO task_locks (name, task_id, acquired_ms, expires_ms) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (name) DO NOTHING`,
                [name, candidate.id, nowMs, nowMs + lockTtlMs],
              );
              if (rowCount === 0) throw new LockBusy();
            }
            return true;
          })
          .catch((error: unknown) => {
            if (error instanceof LockBusy) return false;
            throw error;
          });
        if (!locked) continue;
        const rows = await tx.query<TaskRow & Record<string, unknown>>(
          `UPDATE tasks SET state = 'processing', started_ms = $1, checkpoint_ms = $1, runner = $2
           WHERE id = $3 AND state = 'queued' RETURNING *`,
          [nowMs, runner, candidate.id],
        );
        if (rows[0] !== undefined) return rows[0];
      }
      return null;
    });
  }

  /** Ends a running task and releases its locks. False when it was no longer running. */
  async finish(id: number, state: TaskState, result: string | null, nowMs: number): Promise<boolean> {
    return this.#db.transaction(async (tx) => {
      const { rowCount } = await tx.execute(
        `UPDATE tasks SET state = $1, result = $2, finished_ms = $3 WHERE id = $4 AND state IN ($5, $6)`,
        [state, result, nowMs, id, ...ACTIVE],
      );
      await tx.execute('DELETE FROM task_locks WHERE task_id = $1', [id]);
      return rowCount > 0;
    });
  }

  /**
   * `DELETE /task/<id>`: a queued task ends `cancelled` at once, a processing one turns
   * `cancelling` (its runner aborts it). Returns the state found, for the caller's error.
   */
  async requestCancel(
    id: number,
    nowMs: number,
  ): Promise<{ found: TaskState | null; now: TaskState | null }> {
    return this.#db.transaction(async (tx) => {
      const [row] = await tx.query<{ state: TaskState }>(
        `SELECT state FROM tasks WHERE id = $1${tx.dialect === Dialect.postgres ? ' FOR UPDATE' : ''}`,
        [id],
      );
      if (row === undefined) return { found: null, now: null };
      if (row.state === 'queued') {
        await tx.execute(
          `UPDATE tasks SET state = 'cancelled', result = $1, finished_ms = $2 WHERE id = $3`,
          ['task cancelled', nowMs, id],
        );
        return { found: row.state, now: 'cancelled' };
      }
      if (row.state === 'processing') {
        await tx.execute(`UPDATE tasks SET state = 'cancelling' WHERE id = $1`, [id]);
        return { found: row.state, now: 'cancelling' };
      }
      return { found: row.state, now: row.state };
    });
  }

  /** Ids of the runner's tasks someone asked to cancel. */
  async cancellingIds(runner: string): Promise<number[]> {
    const rows = await this.#db.query<{ id: number }>(
      `SELECT id FROM tasks WHERE runner = $1 AND state = 'cancelling'`,
      [runner],
    );
    return rows.map((row) => row.id);
  }

  /** Marks the runner's tasks alive and pushes their locks' expiry forward. */
  async checkpoint(ids: readonly number[], nowMs: number, lockTtlMs: number): Promise<void> {
    for (const id of ids) {
      await this.#db.execute('UPDATE tasks SET checkpoint_ms = $1 WHERE id = $2', [nowMs, id]);
      await this.#db.execute('UPDATE task_locks SET expires_ms = $1 WHERE task_id = $2', [
        nowMs + lockTtlMs,
        id,
      ]);
    }
  }

  /**
   * Running tasks that no live runner owns: at start (`runner` given) this runner's own tasks from
   * before a restart, and at any time tasks whose checkpoint is older than `staleBeforeMs`.
   */
  async orphans(runner: string | null, staleBeforeMs: number): Promise<TaskRow[]> {
    const params: SqlValue[] = [...ACTIVE, staleBeforeMs];
    let owner = 'checkpoint_ms < $3';
    if (runner !== null) {
      params.push(runner);
      owner += ' OR runner = $4 OR runner IS NULL';
    }
    return this.#db.query<TaskRow & Record<string, unknown>>(
      `SELECT * FROM tasks WHERE state IN ($1, $2) AND (${owner}) ORDER BY id`,
      params,
    );
  }

  /** Locks whose task is no longer running (left by a director that died). */
  async releaseDeadLocks(): Promise<void> {
    await this.#db.execute(
      `DELETE FROM task_locks WHERE task_id NOT IN (SELECT id FROM tasks WHERE state IN ($1, $2))`,
      ACTIVE,
    );
  }

  async locks(): Promise<{ name: string; task_id: number; expires_ms: number }[]> {
    return this.#db.query('SELECT name, task_id, expires_ms FROM task_locks ORDER BY name');
  }
}

class LockBusy extends Error {}
