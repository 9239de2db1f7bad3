import { z } from 'zod';
import { stemcellMajor } from '../compiled-packages/find-compiled-package.ts';
import { DeploymentStore } from '../deployments/deployment-store.ts';
import { StemcellInUse } from '../errors.ts';
import type { DirectorDeps } from '../feature.ts';
import { deleteUnreferencedBlobs } from '../releases/blob-references.ts';
import { deleteRelease } from '../releases/delete-release-task.ts';
import { deleteRootfsRecord } from '../rootfs/delete-rootfs-task.ts';
import { deleteStemcellFromCloud } from '../stemcells/delete-stemcell-task.ts';
import { StemcellStore } from '../stemcells/stemcell-store.ts';
import type { EventLog, TaskContext, TaskHandler } from '../tasks/task-context.ts';
import { deleteLeftoverVm } from '../updater/leftover-vms-step.ts';
import { planCleanup, type CleanupPlan, type OrphanedDisksSource } from './cleanup-plan.ts';

export const CLEANUP = 'cleanup';

export const CleanupParams = z.object({
  remove_all: z.boolean(),
  keep_orphaned_disks: z.boolean(),
  /** What the task's locks cover, fixed when it was queued: anything else waits for the next clean-up. */
  locked: z.object({
    stemcells: z.array(z.string()),
    rootfs: z.array(z.string()),
    deployments: z.array(z.string()),
    disks: z.array(z.string()).default([]),
  }),
});
export type CleanupParams = z.infer<typeof CleanupParams>;

type Deps = Pick<DirectorDeps, 'db' | 'cloud' | 'blobstore' | 'events'>;

/** Deletes one orphaned disk (the disks module's deletion), when the director has them. */
export type OrphanedDiskDeleter = (cid: string, ctx: Pick<TaskContext, 'signal' | 'cpi'>) => Promise<void>;

export interface CleanupDisks {
  readonly list: OrphanedDisksSource;
  readonly delete: OrphanedDiskDeleter;
}

/**
 * `cleanup` (BOSH's jobs/cleanup_artifacts.rb and cleanup_artifact_manager.rb): re-plans, then
 * deletes in BOSH's order, one stage each: `Deleting orphaned vms`, `Deleting releases`,
 * `Deleting stemcells`, Refit's `Deleting root filesystems`, `Deleting compiled packages`,
 * `Deleting orphaned disks`. Each item goes through the code its own delete command uses and
 * re-checks that nothing uses it; the first failure ends the task and whatever is left stays
 * listed for the next clean-up.
 */
export function cleanupTask(deps: Deps, disks: CleanupDisks | null): TaskHandler<CleanupParams> {
  return {
    type: CLEANUP,
    parseParams: (raw) => CleanupParams.parse(raw),
    async run(ctx, params) {
      const plan = await planCleanup(
        deps.db,
        { removeAll: params.remove_all, keepOrphanedDisks: params.keep_orphaned_disks },
        disks?.list ?? null,
      );
      const mine = coveredByLocks(plan, params.locked);
      ctx.signal.throwIfAborted();
      const vms = await deleteOrphanedVms(deps, ctx, mine);
      const releases = await deleteReleases(deps, ctx, mine);
      const stemcells = await deleteStemcells(deps, ctx, mine);
      const rootfs = await deleteRootFilesystems(deps, ctx, mine);
      const packages = await deleteCompiledPackages(deps, ctx, mine);
      const orphanedDisks = await deleteOrphanedDisks(ctx, mine, disks);
      return (
        `Deleted ${releases} release(s), ${stemcells} stemcell(s), ` +
        `${packages} extra compiled package(s), ${orphanedDisks} orphaned disk(s), ` +
        `${vms} orphaned vm(s), ${rootfs} root filesystem(s)`
      );
    },
  };
}

/** The part of the plan the task's locks cover (a stemcell, rootfs or deployment picked after queueing waits). */
function coveredByLocks(plan: CleanupPlan, locked: CleanupParams['locked']): CleanupPlan {
  const stemcells = new Set(locked.stemcells);
  const rootfs = new Set(locked.rootfs);
  const deployments = new Set(locked.deployments);
  const disks = new Set(locked.disks);
  const [covered, waiting] = partition(plan.stemcells, (s) => stemcells.has(`${s.name}/${s.version}`));
  return {
    ...plan,
    orphanedVms: plan.orphanedVms.filter((vm) => deployments.has(vm.deployment)),
    stemcells: covered,
    orphanedDisks: plan.orphanedDisks.filter((d) => disks.has(d.cid)),
    // A compiled package a stemcell left for later could still use stays with it.
    compiledPackages: plan.compiledPackages.filter(
      (c) =>
        !waiting.some(
          (s) =>
            s.operatingSystem === c.stemcellOs &&
            stemcellMajor(s.version) === stemcellMajor(c.stemcellVersion),
        ),
    ),
    rootfs: plan.rootfs.filter((r) => rootfs.has(`${r.name}/${r.version}`)),
  };
}

function partition<T>(items: readonly T[], test: (item: T) => boolean): [T[], T[]] {
  return [items.filter(test), items.filter((item) => !test(item))];
}

async function deleteOrphanedVms(deps: Deps, ctx: TaskContext, plan: CleanupPlan): Promise<number> {
  const stage = ctx.events.stage('Deleting orphaned vms', { total: plan.orphanedVms.length });
  const store = new DeploymentStore(deps.db);
  for (const vm of plan.orphanedVms) {
    ctx.signal.throwIfAborted();
    await stage.task(vm.cid, () =>
      deleteLeftoverVm(
        { cloud: deps.cloud, signal: ctx.signal, cpiLog: ctx.cpi, store: store.stateStore(vm.deployment) },
        vm.cid,
      ),
    );
    await record(deps, ctx, { objectType: 'vm', objectName: vm.cid, deployment: vm.deployment });
  }
  return plan.orphanedVms.length;
}

async function deleteReleases(deps: Deps, ctx: TaskContext, plan: CleanupPlan): Promise<number> {
  const total = plan.releases.reduce((n, r) => n + r.versions.length, 0);
  const stage = ctx.events.stage('Deleting releases', { total });
  // The release deleter's own stages (packages, jobs) would interleave with this one.
  const quiet = { events: quietEvents(ctx.events), debug: ctx.debug };
  for (const release of plan.releases) {
    for (const version of release.versions) {
      ctx.signal.throwIfAborted();
      await stage.task(`${release.name}/${version}`, () =>
        deleteRelease(deps, quiet, { name: release.name, version, force: false }),
      );
      await record(deps, ctx, { objectType: 'release', objectName: release.name, context: { version } });
    }
  }
  return total;
}

async function deleteStemcells(deps: Deps, ctx: TaskContext, plan: CleanupPlan): Promise<number> {
  const byNameVersion = new Map<string, (typeof plan.stemcells)[number][]>();
  for (const s of plan.stemcells) {
    const key = `${s.name}/${s.version}`;
    byNameVersion.set(key, [...(byNameVersion.get(key) ?? []), s]);
  }
  const stage = ctx.events.stage('Deleting stemcells', { total: byNameVersion.size });
  const store = new StemcellStore(deps.db);
  for (const [objectName, copies] of byNameVersion) {
    ctx.signal.throwIfAborted();
    await stage.task(objectName, async () => {
      for (const stemcell of copies) {
        const users = await store.deploymentsUsing(stemcell.id);
        if (users.length > 0) {
          throw new StemcellInUse(`Stemcell '${objectName}' is still in use by: ${users.join(', ')}`);
        }
        await deleteStemcellFromCloud(deps, ctx, stemcell, false);
        await store.delete(stemcell.id);
      }
    });
    await record(deps, ctx, { objectType: 'stemcell', objectName });
  }
  return byNameVersion.size;
}

async function deleteRootFilesystems(deps: Deps, ctx: TaskContext, plan: CleanupPlan): Promise<number> {
  const stage = ctx.events.stage('Deleting root filesystems', { total: plan.rootfs.length });
  for (const rootfs of plan.rootfs) {
    ctx.signal.throwIfAborted();
    const objectName = `${rootfs.name}/${rootfs.version}`;
    await stage.task(objectName, () => deleteRootfsRecord(deps, rootfs));
    await record(deps, ctx, { objectType: 'rootfs', objectName });
  }
  return plan.rootfs.length;
}

async function deleteCompiledPackages(deps: Deps, ctx: TaskContext, plan: CleanupPlan): Promise<number> {
  // Deleting a release already deleted the compiled packages of the packages it took along.
  const present = new Set(
    (await deps.db.query<{ id: number }>('SELECT id FROM compiled_packages')).map((r) => Number(r.id)),
  );
  const remaining = plan.compiledPackages.filter((c) => present.has(c.id));
  const stage = ctx.events.stage('Deleting compiled packages', { total: remaining.length });
  for (const cp of remaining) {
    ctx.signal.throwIfAborted();
    await stage.task(`${cp.packageName} for ${cp.stemcellOs}/${cp.stemcellVersion}`, async () => {
      await deps.db.execute('DELETE FROM compiled_packages WHERE id = $1', [cp.id]);
      await deleteUnreferencedBlobs(deps.db, deps.blobstore, [cp.blobstoreId]);
    });
  }
  return remaining.length;
}

async function deleteOrphanedDisks(
  ctx: TaskContext,
  plan: CleanupPlan,
  disks: CleanupDisks | null,
): Promise<number> {
  const stage = ctx.events.stage('Deleting orphaned disks', { total: plan.orphanedDisks.length });
  if (disks === null) return 0;
  for (const disk of plan.orphanedDisks) {
    ctx.signal.throwIfAborted();
    await stage.task(disk.cid, () => disks.delete(disk.cid, ctx));
  }
  return plan.orphanedDisks.length;
}

/** An event log whose stages print nothing (warnings still reach the task's log). */
function quietEvents(events: EventLog): EventLog {
  return {
    stage: () => ({ task: (_name, fn) => fn({ status() {} }) }),
    warning: (message) => events.warning(message),
  };
}

async function record(
  deps: Deps,
  ctx: TaskContext,
  event: {
    objectType: string;
    objectName: string;
    deployment?: string;
    context?: Readonly<Record<string, unknown>>;
  },
): Promise<void> {
  await deps.events
    .record({ action: 'delete', user: ctx.user, task: ctx.taskId, error: null, ...event })
    .catch(() => undefined);
}
