import { z } from 'zod';
import { CpiCallFailed } from '../errors.ts';
import type { DirectorDeps } from '../feature.ts';
import type { TaskHandler, TaskQueue } from '../tasks/task-context.ts';
import { deleteOrphanDisk } from './delete-orphan-disk.ts';
import { OrphanDiskStore } from './orphan-disk-store.ts';
import { scheduleEvery } from '../tasks/schedule-every.ts';

export const SCHEDULED_ORPHANED_DISK_CLEANUP = 'scheduled_orphaned_disk_cleanup';

/** BOSH's `director.disks.*` (default 5 days, every 30 minutes); interval 0: never. */
export interface OrphanedDiskCleanupSchedule {
  readonly maxOrphanedAgeDays: number;
  readonly intervalMs: number;
}

export const ScheduledCleanupParams = z.object({ max_orphaned_age_in_days: z.number().nonnegative() });
export type ScheduledCleanupParams = z.infer<typeof ScheduledCleanupParams>;

const DAY_MS = 24 * 60 * 60 * 1000;

/** The moment before which an orphan is old enough to go. */
export const orphanedBefore = (days: number, nowMs: number) => new Date(nowMs - days * DAY_MS).toISOString();

/**
 * `scheduled_orphaned_disk_cleanup` (BOSH's `ScheduledOrphanedDiskCleanup`): stage `Deleting
 * orphan disks`, every orphan older than `max_orphaned_age_in_days` deleted (CPI `delete_disk`,
 * then the row); a failure is counted and the rest carry on; the task fails (BOSH raises a
 * CloudError) when any disk could not be deleted.
 */
export function scheduledOrphanedDiskCleanupTask(
  deps: Pick<DirectorDeps, 'db' | 'cloud'>,
  now: () => number = Date.now,
): TaskHandler<ScheduledCleanupParams> {
  return {
    type: SCHEDULED_ORPHANED_DISK_CLEANUP,
    parseParams: (raw) => ScheduledCleanupParams.parse(raw),
    async run(ctx, params) {
      const store = new OrphanDiskStore(deps.db);
      const before = orphanedBefore(params.max_orphaned_age_in_days, now());
      ctx.debug.write(`Started cleanup of orphan disks older than ${before}\n`);
      const old = await store.orphanedBefore(before);
      const stage = ctx.events.stage('Deleting orphan disks', { total: old.length });
      let failed = 0;
      for (const orphan of old) {
        await stage.task(orphan.cid, async () => {
          try {
            await deleteOrphanDisk(
              { cloud: deps.cloud, store, signal: ctx.signal, log: ctx.cpi },
              orphan.cid,
            );
          } catch (error) {
            if (ctx.signal.aborted) throw error;
            failed += 1;
            ctx.debug.write(
              `Failed to delete orphan disk with cid ${orphan.cid}. Failed with ${(error as Error).message}\n`,
            );
          }
        });
      }
      const output = `Deleted ${old.length - failed} orphaned disk(s) older than ${before}. Failed to delete ${failed} disk(s).`;
      if (failed > 0) throw new CpiCallFailed(output);
      return output;
    },
  };
}

/**
 * Every `intervalMs`, enqueues the cleanup task when an orphan is old enough (BOSH's scheduler
 * asks `has_work` first, so an idle director queues nothing). Returns the stop function. Errors
 * of a tick (a closed database at shutdown) are left to the next tick.
 */
export function scheduleOrphanedDiskCleanup(
  deps: { readonly db: DirectorDeps['db']; readonly tasks: TaskQueue },
  schedule: OrphanedDiskCleanupSchedule,
  now: () => number = Date.now,
): () => void {
  return scheduleEvery(schedule.intervalMs, () =>
    enqueueOrphanedDiskCleanup(deps, schedule.maxOrphanedAgeDays, now()),
  );
}

/** One tick: the task id when there was work, else null. */
export async function enqueueOrphanedDiskCleanup(
  deps: { readonly db: DirectorDeps['db']; readonly tasks: TaskQueue },
  maxOrphanedAgeDays: number,
  nowMs: number,
): Promise<number | null> {
  const old = await new OrphanDiskStore(deps.db).orphanedBefore(orphanedBefore(maxOrphanedAgeDays, nowMs));
  if (old.length === 0) return null;
  const params: ScheduledCleanupParams = { max_orphaned_age_in_days: maxOrphanedAgeDays };
  return deps.tasks.enqueue({
    type: SCHEDULED_ORPHANED_DISK_CLEANUP,
    description: 'scheduled ScheduledOrphanedDiskCleanup',
    user: 'scheduler',
    params,
    locks: ['lock:orphan_disk_cleanup'],
  });
}
