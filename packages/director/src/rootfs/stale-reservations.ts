import type { Db } from '../db/db.ts';

/** Task states in which a task may still hand a reserved rootfs to agents. */
const LIVE = new Set(['queued', 'processing', 'cancelling']);

/**
 * Releases `rootfs_reservations` whose holder is a task (`task:<id>`) that no longer runs: a
 * director that died mid-reload left them behind (its task was then marked interrupted), and
 * they would refuse `delete-rootfs` forever. Runs at start (after interrupted tasks were failed)
 * and before `delete-rootfs` checks the holders. Answers the holders released.
 */
export async function releaseStaleReservations(db: Db): Promise<string[]> {
  const holders = await db.query<{ holder: string }>('SELECT DISTINCT holder FROM rootfs_reservations');
  const released: string[] = [];
  for (const { holder } of holders) {
    if (await holderIsLive(db, String(holder))) continue;
    await db.execute('DELETE FROM rootfs_reservations WHERE holder = $1', [holder]);
    released.push(String(holder));
  }
  return released.sort();
}

/**
 * Whether a reservation holder may still use its rootfs: anything but `task:<id>` (not ours to
 * judge), or a task still queued, processing or cancelling. Read only (clean-up's dry run).
 */
export async function holderIsLive(db: Db, holder: string): Promise<boolean> {
  const match = /^task:(\d+)$/.exec(holder);
  if (match === null) return true;
  const [task] = await db.query<{ state: string }>('SELECT state FROM tasks WHERE id = $1', [
    Number(match[1]),
  ]);
  return task !== undefined && LIVE.has(String(task.state));
}
