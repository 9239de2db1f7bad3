import type { Feature } from '../feature.ts';
import { ipReservationsMigration } from '../networking/index.ts';
import { deploymentsMigration } from './006-deployments.ts';
import { compilationVmsMigration } from './013-compilation-vms.ts';
import { leftoverVmsMigration } from './014-leftover-vms.ts';
import { persistentDiskActiveMigration } from './017-persistent-disk-active.ts';
import { orphanedVmsMigration } from './019-orphaned-vms.ts';
import { deleteDeploymentTask } from './delete-deployment-task.ts';
import { deployTask, type DeploymentTaskDeps } from './deploy-task.ts';
import { deploymentRoutes } from './deployment-routes.ts';
import {
  scheduledOrphanedVmCleanupTask,
  scheduleOrphanedVmCleanup,
  type OrphanedVmCleanupSchedule,
} from './scheduled-orphaned-vm-cleanup.ts';
import { vmStateTask } from './vm-state.ts';

export { DeploymentStore } from './deployment-store.ts';
export { persistentDiskActiveMigration } from './017-persistent-disk-active.ts';
export type { DeploymentTaskDeps } from './deploy-task.ts';
export type { OrphanedVmCleanupSchedule } from './scheduled-orphaned-vm-cleanup.ts';

/** BOSH's default `director.vms.cleanup_schedule`: orphaned VMs deleted every 5 minutes. */
export const defaultOrphanedVmCleanup: OrphanedVmCleanupSchedule = { intervalMs: 5 * 60 * 1000 };

/** The schema deployments need, in order (also for benchmarks and tests that use the stores directly). */
export const deploymentsMigrations = [
  ipReservationsMigration,
  deploymentsMigration,
  compilationVmsMigration,
  leftoverVmsMigration,
  persistentDiskActiveMigration,
  orphanedVmsMigration,
];

/**
 * Deployments (reference §1.8–1.10, §4): deploy, diff, list, show, delete, vms/instances and
 * instance state changes, over the planner and the updater. Owns migrations 005 (IP
 * reservations, the networking module's table), 006, 013 (compilation VMs), 014 (leftover VMs
 * of create-swap-delete), 017 (`persistent_disks.active`) and 019 (`leftover_vms.orphaned_at`).
 * `agents` is read when a task runs (the NATS client exists only after the features are listed). The old VMs of create-swap-delete
 * are orphaned and deleted every `vmCleanup.intervalMs` (BOSH's `ScheduledOrphanedVMCleanup`).
 */
export function deploymentsFeature(
  extra: DeploymentTaskDeps,
  vmCleanup: OrphanedVmCleanupSchedule = defaultOrphanedVmCleanup,
): Feature {
  return {
    name: 'deployments',
    migrations: deploymentsMigrations,
    routes: (deps) => deploymentRoutes(deps),
    taskHandlers: (deps) => [
      deployTask(deps, extra),
      deleteDeploymentTask(deps, extra),
      vmStateTask(deps, extra.agents),
      scheduledOrphanedVmCleanupTask(deps),
    ],
    startup(deps) {
      // Unref'd: it never keeps the process alive; a tick after shutdown fails quietly.
      scheduleOrphanedVmCleanup(deps, vmCleanup);
      return Promise.resolve();
    },
  };
}
