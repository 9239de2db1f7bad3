import type { Feature } from '../feature.ts';
import { cleanupRoutes } from './cleanup-routes.ts';
import { cleanupTask } from './cleanup-task.ts';
import { orphanedDisks } from './orphaned-disks.ts';

/**
 * `bosh clean-up` (reference: BOSH's cleanup controller and CleanupArtifactManager) and
 * `GET /orphaned_vms`. No schema of its own: it reads and deletes what the stemcell, rootfs,
 * release, deployment and disk features store, so it lists after all of them (orphaned disks
 * only with `--all` and without `--keep-orphaned-disks`, as BOSH).
 */
export const cleanupFeature: Feature = {
  name: 'cleanup',
  migrations: [],
  routes(deps) {
    return cleanupRoutes({ db: deps.db, tasks: deps.tasks, orphanedDisks: orphanedDisks(deps).list });
  },
  taskHandlers(deps) {
    return [cleanupTask(deps, orphanedDisks(deps))];
  },
};
