import { z } from 'zod';
import { updaterDeps, type DeploymentTaskDeps } from '../deployments/deploy-task.ts';
import { DeploymentStore } from '../deployments/deployment-store.ts';
import { DeploymentNotFound } from '../errors.ts';
import type { DirectorDeps } from '../feature.ts';
import type { TaskHandler } from '../tasks/task-context.ts';
import { attachDiskStep, detachDiskStep, orphanDiskStep } from '../updater/disk-steps.ts';
import { AttachDiskErrorUnknownInstance, AttachDiskInvalidInstanceState } from './disk-errors.ts';
import { OrphanDiskStore } from './orphan-disk-store.ts';

export const ATTACH_DISK = 'attach_disk';

export const AttachDiskParams = z.object({
  deployment: z.string().min(1),
  job: z.string(),
  instanceId: z.string(),
  cid: z.string().min(1),
  /** BOSH's `disk_properties`: `copy` (the instance's current disk's), a JSON object, or ''. */
  diskProperties: z.string().default(''),
});
export type AttachDiskParams = z.infer<typeof AttachDiskParams>;

const DiskPropertiesJson = z.object({
  size: z.number().int().positive().optional(),
  cloud_properties: z.record(z.string(), z.unknown()).optional(),
});

/**
 * `attach_disk` (BOSH's jobs/attach_disk.rb, `PUT /disks/<cid>/attachments`): an orphaned (or
 * unmanaged) disk becomes the persistent disk of a stopped or detached instance. The
 * instance's current disk, if any, is detached (when it has a VM) and orphaned; the new disk's
 * record moves from the orphans (or, for a disk the director never had, is created with size 1
 * and no cloud properties, or those of the current disk with `copy`); on an instance with a VM
 * it is attached and mounted (CPI `attach_disk`, agent `add_persistent_disk`,
 * `set_disk_metadata`, agent `mount_disk`), so `start` finds its data on /var/vcap/store.
 */
export function attachDiskTask(deps: DirectorDeps, extra: DeploymentTaskDeps): TaskHandler<AttachDiskParams> {
  return {
    type: ATTACH_DISK,
    parseParams: (raw) => AttachDiskParams.parse(raw),
    async run(ctx, params) {
      const { deployment, job, instanceId, cid } = params;
      const slug = `${job}/${instanceId}`;
      const deployments = new DeploymentStore(deps.db);
      if ((await deployments.get(deployment)) === null) {
        throw new DeploymentNotFound(`Deployment '${deployment}' doesn't exist`);
      }
      const instance = (await deployments.instances(deployment)).find(
        (i) => i.group === job && (i.id === instanceId || String(i.index) === instanceId),
      );
      if (instance === undefined) {
        throw new AttachDiskErrorUnknownInstance(
          `Instance '${slug}' in deployment '${deployment}' was not found`,
        );
      }
      if (instance.state !== 'stopped' && instance.state !== 'detached') {
        throw new AttachDiskInvalidInstanceState(
          `Instance '${slug}' in deployment '${deployment}' must be in 'bosh stopped' state`,
        );
      }
      const orphans = new OrphanDiskStore(deps.db);
      const holder = await orphans.findAttached(cid);
      if (holder !== null) {
        throw new AttachDiskInvalidInstanceState(
          `Disk '${cid}' is the persistent disk of instance '${holder.instanceId}' in deployment '${holder.deployment}': orphan it first`,
        );
      }
      let unmanaged = { size: 1, cloudProperties: {} as Record<string, unknown> };
      if (params.diskProperties !== '' && params.diskProperties !== 'copy') {
        const parsed = DiskPropertiesJson.parse(JSON.parse(params.diskProperties));
        unmanaged = { size: parsed.size ?? 1, cloudProperties: parsed.cloud_properties ?? {} };
      }
      const updater = updaterDeps(deps, extra, ctx, deployment);
      const stage = ctx.events.stage('Attaching disk', { total: 1 });
      await stage.task(`Attaching disk ${cid} to ${job}/${instance.id}`, async () => {
        const previous = instance.disk;
        if (previous !== null) {
          if (params.diskProperties === 'copy') {
            unmanaged = { size: previous.size, cloudProperties: previous.cloudProperties };
          }
          if (instance.vm !== null) await detachDiskStep(updater, instance, instance.vm, previous.cid);
          await orphanDiskStep(updater, instance, previous.cid);
        }
        const moved = await orphans.unorphan(cid, instance.id, deployment);
        if (moved === null) {
          await updater.store.diskCreated(instance.id, {
            cid,
            size: unmanaged.size,
            cloudProperties: unmanaged.cloudProperties,
          });
        }
        if (instance.vm === null) return;
        try {
          await attachDiskStep(updater, instance, instance.vm, cid);
        } catch (error) {
          // Not attached: recorded as the instance's, the next start would not attach it.
          await orphans.orphan(cid).catch(() => undefined);
          throw error;
        }
      });
      return `attached disk '${cid}' to '${slug}' in deployment '${deployment}'`;
    },
  };
}
