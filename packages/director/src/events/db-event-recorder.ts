import type { EventItem } from '@refit/protocol';
import type { Db, SqlValue } from '../db/db.ts';
import type { EventRecorder } from '../feature.ts';

/** An event; `timestampMs` (when it happened, if not now) only for events posted to `POST /events`. */
type RecordInput = Parameters<EventRecorder['record']>[0] & { readonly timestampMs?: number };

interface EventRow {
  id: number;
  parent_id: number | null;
  timestamp_ms: number;
  user_name: string;
  action: string;
  object_type: string;
  object_name: string | null;
  task: string | null;
  deployment: string | null;
  instance: string | null;
  context: string;
  error: string | null;
}

export interface EventQuery {
  readonly beforeId?: number;
  readonly afterMs?: number;
  readonly beforeMs?: number;
  readonly deployment?: string;
  readonly task?: string;
  readonly instance?: string;
  readonly user?: string;
  readonly action?: string;
  readonly objectType?: string;
  readonly objectName?: string;
  readonly limit: number;
}

/** BOSH events (`GET /events`) kept in the `events` table. */
export class DbEventRecorder implements EventRecorder {
  readonly #db: Db;
  readonly #now: () => number;
  constructor(db: Db, now: () => number = Date.now) {
    this.#db = db;
    this.#now = now;
  }

  async record(event: RecordInput): Promise<string> {
    const [row] = await this.#db.query<{ id: number }>(
      `INSERT INTO events (parent_id, timestamp_ms, user_name, action, object_type, object_name, task, deployment,
         instance, context, error)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id`,
      [
        event.parentId === undefined || event.parentId === null ? null : Number(event.parentId),
        event.timestampMs ?? this.#now(),
        event.user,
        event.action,
        event.objectType,
        event.objectName,
        event.task === undefined || event.task === null ? null : String(event.task),
        event.deployment ?? null,
        event.instance ?? null,
        JSON.stringify(event.context ?? {}),
        event.error ?? null,
      ],
    );
    if (row === undefined) throw new Error('INSERT INTO events returned no id');
    return String(row.id);
  }

  async list(query: EventQuery): Promise<EventItem[]> {
    const where: string[] = [];
    const params: SqlValue[] = [];
    const add = (clause: string, value: SqlValue | undefined) => {
      if (value === undefined) return;
      params.push(value);
      where.push(clause.replace('?', `$${params.length}`));
    };
    add('id < ?', query.beforeId);
    add('timestamp_ms > ?', query.afterMs);
    add('timestamp_ms < ?', query.beforeMs);
    add('deployment = ?', query.deployment);
    add('task = ?', query.task);
    add('instance = ?', query.instance);
    add('user_name = ?', query.user);
    add('action = ?', query.action);
    add('object_type = ?', query.objectType);
    add('object_name = ?', query.objectName);
    params.push(query.limit);
    const rows = await this.#db.query<EventRow & Record<string, unknown>>(
      `SELECT * FROM events${where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT $${params.length}`,
      params,
    );
    return rows.map((row) => ({
      id: String(row.id),
      parent_id: row.parent_id === null ? null : String(row.parent_id),
      timestamp: Math.floor(row.timestamp_ms / 1000),
      user: row.user_name,
      action: row.action,
      object_type: row.object_type,
      object_name: row.object_name,
      task: row.task,
      deployment: row.deployment,
      instance: row.instance,
      context: JSON.parse(row.context) as Record<string, unknown>,
      error: row.error,
    }));
  }
}
