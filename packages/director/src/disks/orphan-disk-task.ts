import { z } from 'zod';
import { updaterDeps, type DeploymentTaskDeps } from '../deployments/deploy-task.ts';
import { DeploymentStore } from '../deployments/deployment-store.ts';
import type { DirectorDeps } from '../feature.ts';
import type { TaskHandler } from '../tasks/task-context.ts';
import { detachDiskStep, orphanDiskStep } from '../updater/disk-steps.ts';
import { OrphanDiskStore } from './orphan-disk-store.ts';

export const ORPHAN_DISK = 'orphan_disk';

export const OrphanDiskParams = z.object({ cid: z.string().min(1) });
export type OrphanDiskParams = z.infer<typeof OrphanDiskParams>;

/**
 * `orphan_disk` (BOSH's `OrphanDiskJob`, `DELETE /disks/<cid>?orphan=true`): an instance's
 * persistent disk becomes an orphan. BOSH only moves the record; Refit first detaches the disk
 * from the instance's VM, if it has one, in BOSH's order (agent `unmount_disk`, CPI
 * `detach_disk`, agent `remove_persistent_disk`), so the orphan is free to attach elsewhere or
 * delete. A failure there leaves the disk the instance's. A cid no instance has is only logged
 * and the task succeeds, as BOSH's does.
 */
export function orphanDiskTask(deps: DirectorDeps, extra: DeploymentTaskDeps): TaskHandler<OrphanDiskParams> {
  return {
    type: ORPHAN_DISK,
    parseParams: (raw) => OrphanDiskParams.parse(raw),
    async run(ctx, { cid }) {
      const attached = await new OrphanDiskStore(deps.db).findAttached(cid);
      if (attached === null) {
        ctx.debug.write(`disk ${cid} does not exist\n`);
        return `disk ${cid} orphaned`;
      }
      const instances = await new DeploymentStore(deps.db).instances(attached.deployment);
      const instance = instances.find((i) => i.id === attached.instanceId) ?? null;
      const updater = updaterDeps(deps, extra, ctx, attached.deployment);
      const ref = instance ?? { id: attached.instanceId, group: 'unknown', index: 0 };
      ctx.debug.write(`orphaning disk: ${cid}\n`);
      if (instance?.vm) await detachDiskStep(updater, ref, instance.vm, cid);
      await orphanDiskStep(updater, ref, cid);
      return `disk ${cid} orphaned`;
    },
  };
}
