import { z } from 'zod';
import type { DirectorDeps } from '../feature.ts';
import type { TaskHandler, TaskQueue } from '../tasks/task-context.ts';
import { deleteLeftoverVm } from '../updater/leftover-vms-step.ts';
import { DeploymentStore } from './deployment-store.ts';
import { scheduleEvery } from '../tasks/schedule-every.ts';

export const SCHEDULED_ORPHANED_VM_CLEANUP = 'scheduled_orphaned_vm_cleanup';

/** BOSH's `director.vms.cleanup_schedule` (every 5 minutes); interval 0: never. */
export interface OrphanedVmCleanupSchedule {
  readonly intervalMs: number;
}

export const ScheduledVmCleanupParams = z.object({});
export type ScheduledVmCleanupParams = z.infer<typeof ScheduledVmCleanupParams>;

/** An orphaned VM (the old VM of a finished create-swap-delete), with its deployment. */
interface OrphanedVmRow {
  readonly cid: string;
  readonly deployment: string;
}

/** Rows with `orphaned_at` only: a replacement VM before its swap is its deploy's, never taken here. */
async function orphanedVms(db: DirectorDeps['db']): Promise<OrphanedVmRow[]> {
  const rows = await db.query(
    `SELECT l.cid, l.deployment FROM leftover_vms l
     WHERE l.orphaned_at IS NOT NULL AND NOT EXISTS (SELECT 1 FROM vms v WHERE v.cid = l.cid)
     ORDER BY l.orphaned_at, l.cid`,
  );
  return rows.map((r) => ({ cid: String(r.cid), deployment: String(r.deployment) }));
}

/**
 * `scheduled_orphaned_vm_cleanup` (BOSH's `ScheduledOrphanedVMCleanup`): stage `Deleting
 * orphaned vms`, each orphaned VM deleted (CPI `delete_vm`, one the IaaS no longer has counts
 * as deleted), then its row and the IP reservations it still held; a `delete vm` event each.
 * As BOSH, a VM that cannot be deleted now is logged and left for the next run; the task
 * does not fail.
 */
export function scheduledOrphanedVmCleanupTask(
  deps: Pick<DirectorDeps, 'db' | 'cloud' | 'events'>,
): TaskHandler<ScheduledVmCleanupParams> {
  return {
    type: SCHEDULED_ORPHANED_VM_CLEANUP,
    parseParams: (raw) => ScheduledVmCleanupParams.parse(raw ?? {}),
    async run(ctx) {
      const store = new DeploymentStore(deps.db);
      const vms = await orphanedVms(deps.db);
      const stage = ctx.events.stage('Deleting orphaned vms', { total: vms.length });
      let failed = 0;
      for (const vm of vms) {
        await stage.task(vm.cid, async () => {
          let error: Error | null = null;
          try {
            await deleteLeftoverVm(
              {
                cloud: deps.cloud,
                signal: ctx.signal,
                cpiLog: ctx.cpi,
                store: store.stateStore(vm.deployment),
              },
              vm.cid,
            );
          } catch (caught) {
            if (ctx.signal.aborted) throw caught;
            error = caught as Error;
            failed += 1;
            ctx.debug.write(`Failed to delete orphaned vm ${vm.cid}: ${error.message}\n`);
          }
          await deps.events
            .record({
              action: 'delete',
              objectType: 'vm',
              objectName: vm.cid,
              deployment: vm.deployment,
              user: ctx.user,
              task: ctx.taskId,
              error: error?.message ?? null,
            })
            .catch(() => undefined);
        });
      }
      return `Deleted ${vms.length - failed} orphaned vm(s). Failed to delete ${failed} vm(s).`;
    },
  };
}

/**
 * Every `intervalMs`, enqueues the cleanup when an orphaned VM exists (BOSH's `has_work`, so an
 * idle director queues nothing). Returns the stop function; a failing tick is left to the next.
 */
export function scheduleOrphanedVmCleanup(
  deps: { readonly db: DirectorDeps['db']; readonly tasks: TaskQueue },
  schedule: OrphanedVmCleanupSchedule,
): () => void {
  return scheduleEvery(schedule.intervalMs, () => enqueueOrphanedVmCleanup(deps));
}

/** One tick: the task id when there was work, else null. */
export async function enqueueOrphanedVmCleanup(deps: {
  readonly db: DirectorDeps['db'];
  readonly tasks: TaskQueue;
}): Promise<number | null> {
  if ((await orphanedVms(deps.db)).length === 0) return null;
  const params: ScheduledVmCleanupParams = {};
  return deps.tasks.enqueue({
    type: SCHEDULED_ORPHANED_VM_CLEANUP,
    description: 'scheduled ScheduledOrphanedVMCleanup',
    user: 'scheduler',
    params,
    locks: ['lock:orphan_vm_cleanup'],
  });
}
