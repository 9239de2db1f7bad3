import type { OrphanDiskItem } from '@refit/protocol';
import type { Route } from '../api/route.ts';
import type { Db } from '../db/db.ts';
import { DeploymentStore } from '../deployments/deployment-store.ts';
import { DeploymentNotFound } from '../errors.ts';
import type { TaskQueue } from '../tasks/task-context.ts';
import { ATTACH_DISK, type AttachDiskParams } from './attach-disk-task.ts';
import { DELETE_ORPHAN_DISKS, type DeleteOrphanDisksParams } from './delete-orphan-disks-task.ts';
import { DeletingPersistentDiskError } from './disk-errors.ts';
import { OrphanDiskStore } from './orphan-disk-store.ts';
import { ORPHAN_DISK, type OrphanDiskParams } from './orphan-disk-task.ts';

const lockName = (deployment: string) => `lock:deployment:${deployment}`;

/** Ruby's `Time#to_s` in UTC, as BOSH's `orphaned_at`: `2026-01-09 06:23:25 UTC`. */
export function rubyUtc(iso: string): string {
  return `${new Date(iso).toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

/**
 * BOSH's disks API: `GET /disks` lists the orphaned disks (the CLI asks `?orphaned=true`; BOSH
 * answers the orphans whatever the query), `DELETE /disks/<cid>` deletes an orphan,
 * `DELETE /disks/<cid>?orphan=true` orphans an instance's disk, `PUT /disks/<cid>/attachments`
 * attaches a disk to a stopped instance.
 */
export function diskRoutes(db: Db, tasks: TaskQueue): Route[] {
  const orphans = new OrphanDiskStore(db);
  return [
    {
      method: 'GET',
      path: '/disks',
      async handle() {
        const body: OrphanDiskItem[] = (await orphans.list()).map((d) => ({
          disk_cid: d.cid,
          size: d.size,
          az: d.az,
          deployment_name: d.deploymentName,
          instance_name: d.instanceName,
          cloud_properties: d.cloudProperties,
          orphaned_at: rubyUtc(d.createdAt),
        }));
        return { kind: 'json', body };
      },
    },
    {
      method: 'DELETE',
      path: '/disks/:cid',
      async handle(request) {
        const cid = request.params.cid ?? '';
        const orphan = request.query.get('orphan');
        const attached = await orphans.findAttached(cid);
        if (orphan === null || orphan === 'false') {
          // BOSH refuses at enqueue: an instance's disk is orphaned first, never deleted.
          if (attached !== null) {
            throw new DeletingPersistentDiskError(
              `Deleting persistent disk is not supported: ${JSON.stringify([cid])}`,
            );
          }
          const params: DeleteOrphanDisksParams = { cids: [cid] };
          const taskId = await tasks.enqueue({
            type: DELETE_ORPHAN_DISKS,
            description: 'delete orphan disks',
            user: request.user,
            params,
            locks: [`lock:orphan_disk:${cid}`],
          });
          return { kind: 'task', taskId };
        }
        const params: OrphanDiskParams = { cid };
        const taskId = await tasks.enqueue({
          type: ORPHAN_DISK,
          description: 'orphan disk',
          user: request.user,
          deployment: attached?.deployment ?? null,
          params,
          locks: attached ? [lockName(attached.deployment)] : [],
        });
        return { kind: 'task', taskId };
      },
    },
    {
      method: 'PUT',
      path: '/disks/:cid/attachments',
      async handle(request) {
        const cid = request.params.cid ?? '';
        const deployment = request.query.get('deployment') ?? '';
        const job = request.query.get('job') ?? '';
        const instanceId = request.query.get('instance_id') ?? '';
        if ((await new DeploymentStore(db).get(deployment)) === null) {
          throw new DeploymentNotFound(`Deployment '${deployment}' doesn't exist`);
        }
        const params: AttachDiskParams = {
          deployment,
          job,
          instanceId,
          cid,
          diskProperties: request.query.get('disk_properties') ?? '',
        };
        const taskId = await tasks.enqueue({
          type: ATTACH_DISK,
          description: `attach disk '${cid}' to '${job}/${instanceId}'`,
          user: request.user,
          deployment,
          params,
          locks: [lockName(deployment), `lock:orphan_disk:${cid}`],
        });
        return { kind: 'task', taskId };
      },
    },
  ];
}
