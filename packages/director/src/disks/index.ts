import type { DeploymentTaskDeps } from '../deployments/deploy-task.ts';
import type { Feature } from '../feature.ts';
import { orphanDisksMigration } from './015-orphan-disks.ts';
import { attachDiskTask } from './attach-disk-task.ts';
import { deleteOrphanDisksTask } from './delete-orphan-disks-task.ts';
import { diskRoutes } from './disk-routes.ts';
import { orphanDiskTask } from './orphan-disk-task.ts';

export { orphanDisksMigration } from './015-orphan-disks.ts';
export { deleteOrphanDisk } from './delete-orphan-disk.ts';
export { OrphanDiskStore, type OrphanDiskRecord } from './orphan-disk-store.ts';

/**
 * Orphaned persistent disks, as BOSH keeps them (its `OrphanDiskManager`): the disks the
 * updater no longer gives any instance are listed, deleted, orphaned on request or attached
 * back. Owns migration 015; list it after the deployments feature (the updater orphans into it).
 */
export function disksFeature(extra: DeploymentTaskDeps): Feature {
  return {
    name: 'disks',
    migrations: [orphanDisksMigration],
    routes: (deps) => diskRoutes(deps.db, deps.tasks),
    taskHandlers: (deps) => [
      deleteOrphanDisksTask(deps),
      orphanDiskTask(deps, extra),
      attachDiskTask(deps, extra),
    ],
  };
}
