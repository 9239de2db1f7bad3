import { randomUUID } from 'node:crypto';
import type { Db } from './db.ts';

/**
 * The director's uuid: generated once, at the first start, and kept in `director_meta`.
 * `ON CONFLICT DO NOTHING` makes two directors starting on one PostgreSQL agree on one uuid.
 */
export async function directorUuid(db: Db): Promise<string> {
  await db.execute('INSERT INTO director_meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING', [
    'uuid',
    randomUUID(),
  ]);
  const rows = await db.query<{ value: string }>('SELECT value FROM director_meta WHERE key = $1', ['uuid']);
  const uuid = rows[0]?.value;
  if (uuid === undefined) throw new Error('director uuid missing after insert');
  return uuid;
}
