import { CleanupRequest } from '@refit/protocol';
import { readJson } from '../api/body.ts';
import type { Route } from '../api/route.ts';
import type { Db } from '../db/db.ts';
import { RELEASES_LOCK } from '../releases/upload-release-route.ts';
import type { TaskQueue } from '../tasks/task-context.ts';
import { artifactLocks, dryRunBody, planCleanup, type OrphanedDisksSource } from './cleanup-plan.ts';
import { CLEANUP, type CleanupParams } from './cleanup-task.ts';
import { listOrphanedVms, orphanedVmAsRead } from './orphaned-vms.ts';

interface RouteDeps {
  readonly db: Db;
  readonly tasks: TaskQueue;
  readonly orphanedDisks: OrphanedDisksSource | null;
}

/**
 * `POST /cleanup` with `{"config":{"remove_all":…,"keep_orphaned_disks":…}}` → 302 to a
 * `cleanup` task (`clean up` or `clean up all`). It holds the release lock (as BOSH's per
 * release lock: Refit's is one for all releases), the delete lock of each stemcell, rootfs and
 * orphaned disk picked now, and the lock of each deployment with orphaned VMs (a VM still
 * recorded as a leftover may be the new VM of a deploy in progress).
 */
function cleanupRoute(deps: RouteDeps): Route {
  return {
    method: 'POST',
    path: '/cleanup',
    async handle(request) {
      const { config } = await readJson(request, CleanupRequest);
      const plan = await planCleanup(
        deps.db,
        { removeAll: config.remove_all, keepOrphanedDisks: config.keep_orphaned_disks },
        deps.orphanedDisks,
      );
      const deployments = [...new Set(plan.orphanedVms.map((vm) => vm.deployment))].sort();
      const params: CleanupParams = {
        remove_all: config.remove_all,
        keep_orphaned_disks: config.keep_orphaned_disks,
        locked: {
          stemcells: [...new Set(plan.stemcells.map((s) => `${s.name}/${s.version}`))],
          rootfs: plan.rootfs.map((r) => `${r.name}/${r.version}`),
          deployments,
          disks: plan.orphanedDisks.map((d) => d.cid),
        },
      };
      const taskId = await deps.tasks.enqueue({
        type: CLEANUP,
        description: config.remove_all ? 'clean up all' : 'clean up',
        user: request.user,
        params,
        locks: [RELEASES_LOCK, ...artifactLocks(plan), ...deployments.map((d) => `lock:deployment:${d}`)],
      });
      return { kind: 'task', taskId };
    },
  };
}

/** `GET /cleanup/dryrun?remove_all=true&keep_orphaned_disks=true`: what a clean-up would delete now. */
function dryRunRoute(deps: RouteDeps): Route {
  return {
    method: 'GET',
    path: '/cleanup/dryrun',
    async handle(request) {
      const plan = await planCleanup(
        deps.db,
        {
          removeAll: request.query.get('remove_all') === 'true',
          keepOrphanedDisks: request.query.get('keep_orphaned_disks') === 'true',
        },
        deps.orphanedDisks,
      );
      return { kind: 'json', body: dryRunBody(plan) };
    },
  };
}

/** `GET /orphaned_vms`: BOSH's list of VMs no instance owns that are still to be deleted. */
function orphanedVmsRoute(db: Db): Route {
  return {
    method: 'GET',
    path: '/orphaned_vms',
    async handle() {
      return { kind: 'json', body: (await listOrphanedVms(db)).map(orphanedVmAsRead) };
    },
  };
}

export function cleanupRoutes(deps: RouteDeps): Route[] {
  return [cleanupRoute(deps), dryRunRoute(deps), orphanedVmsRoute(deps.db)];
}
