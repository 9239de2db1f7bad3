import type { DeploymentTaskDeps } from '../deployments/deploy-task.ts';
import type { Feature } from '../feature.ts';
import { orphanDisksMigration } from './015-orphan-disks.ts';
import { attachDiskTask } from './attach-disk-task.ts';
import { deleteOrphanDisksTask } from './delete-orphan-disks-task.ts';
import { diskRoutes } from './disk-routes.ts';
import { orphanDiskTask } from './orphan-disk-task.ts';
import {
  scheduledOrphanedDiskCleanupTask,
  scheduleOrphanedDiskCleanup,
  type OrphanedDiskCleanupSchedule,
} from './scheduled-orphaned-disk-cleanup.ts';

export { orphanDisksMigration } from './015-orphan-disks.ts';
export { deleteOrphanDisk } from './delete-orphan-disk.ts';
export { OrphanDiskStore, type OrphanDiskRecord } from './orphan-disk-store.ts';
export type { OrphanedDiskCleanupSchedule } from './scheduled-orphaned-disk-cleanup.ts';

/** BOSH's defaults: orphans older than 5 days deleted, looked for every 30 minutes. */
export const defaultOrphanedDiskCleanup: OrphanedDiskCleanupSchedule = {
  maxOrphanedAgeDays: 5,
  intervalMs: 30 * 60 * 1000,
};

/**
 * Orphaned persistent disks, as BOSH keeps them (its `OrphanDiskManager`): the disks the
 * updater no longer gives any instance are listed, deleted, orphaned on request or attached
 * back; those older than `cleanup.maxOrphanedAgeDays` are deleted by a timer (BOSH's
 * `ScheduledOrphanedDiskCleanup`). Owns migration 015; list it after the deployments feature (the
 * updater orphans into it).
 */
export function disksFeature(
  extra: DeploymentTaskDeps,
  cleanup: OrphanedDiskCleanupSchedule = defaultOrphanedDiskCleanup,
): Feature {
  return {
    name: 'disks',
    migrations: [orphanDisksMigration],
    routes: (deps) => diskRoutes(deps.db, deps.tasks),
    taskHandlers: (deps) => [
      deleteOrphanDisksTask(deps),
      orphanDiskTask(deps, extra),
      attachDiskTask(deps, extra),
      scheduledOrphanedDiskCleanupTask(deps),
    ],
    startup(deps) {
      // Unref'd: it never keeps the process alive; a tick after shutdown fails quietly.
      scheduleOrphanedDiskCleanup(deps, cleanup);
      return Promise.resolve();
    },
  };
}
