import type { LockItem } from '@refit/protocol';
import type { Db } from '../db/db.ts';
import type { Feature } from '../feature.ts';

/** `lock:deployment:cf` → type `deployment`, resource `["cf"]` (reference §1.12). */
export function lockItem(row: { name: string; task_id: number; expires_ms: number }): LockItem {
  const [, type = '', ...resource] = row.name.split(':');
  return {
    type,
    resource,
    timeout: (row.expires_ms / 1000).toFixed(6),
    task_id: String(row.task_id),
  };
}

export async function listLocks(db: Db): Promise<LockItem[]> {
  const rows = await db.query<{ name: string; task_id: number; expires_ms: number }>(
    'SELECT name, task_id, expires_ms FROM task_locks ORDER BY name',
  );
  return rows.map(lockItem);
}

/** `GET /locks`: the task locks held right now (their tables are in 001-core). */
export const locksFeature: Feature = {
  name: 'locks',
  migrations: [],
  routes: (deps) => [
    {
      method: 'GET',
      path: '/locks',
      handle: async () => ({ kind: 'json', body: await listLocks(deps.db) }),
    },
  ],
  taskHandlers: () => [],
};
