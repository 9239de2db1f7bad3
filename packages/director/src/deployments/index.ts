import type { Feature } from '../feature.ts';
import { ipReservationsMigration } from '../networking/index.ts';
import { deploymentsMigration } from './006-deployments.ts';
import { compilationVmsMigration } from './013-compilation-vms.ts';
import { leftoverVmsMigration } from './014-leftover-vms.ts';
import { persistentDiskActiveMigration } from './017-persistent-disk-active.ts';
import { deleteDeploymentTask } from './delete-deployment-task.ts';
import { deployTask, type DeploymentTaskDeps } from './deploy-task.ts';
import { deploymentRoutes } from './deployment-routes.ts';
import { vmStateTask } from './vm-state.ts';

export { DeploymentStore } from './deployment-store.ts';
export { persistentDiskActiveMigration } from './017-persistent-disk-active.ts';
export type { DeploymentTaskDeps } from './deploy-task.ts';

/**
 * Deployments (reference §1.8–1.10, §4): deploy, diff, list, show, delete, vms/instances and
 * instance state changes, over the planner and the updater. Owns migrations 005 (IP
 * reservations, the networking module's table), 006, 013 (compilation VMs) 014 (leftover VMs of create-swap-delete) and 017 (`persistent_disks.active`). `agents` is read when a task runs
 * (the NATS client exists only after the features are listed).
 */
export function deploymentsFeature(extra: DeploymentTaskDeps): Feature {
  return {
    name: 'deployments',
    migrations: [
      ipReservationsMigration,
      deploymentsMigration,
      compilationVmsMigration,
      leftoverVmsMigration,
      persistentDiskActiveMigration,
    ],
    routes: (deps) => deploymentRoutes(deps),
    taskHandlers: (deps) => [
      deployTask(deps, extra),
      deleteDeploymentTask(deps, extra),
      vmStateTask(deps, extra.agents),
    ],
  };
}
