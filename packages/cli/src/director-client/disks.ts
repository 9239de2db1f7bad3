import { z } from 'zod';
import { OrphanDiskItem } from '@refit/protocol';
import { query, type DirectorClient } from './director-client.ts';

const diskPath = (cid: string) => `/disks/${encodeURIComponent(cid)}`;

/** `GET /disks?orphaned=true`: the orphaned disks. */
export function listOrphanDisks(client: DirectorClient, signal: AbortSignal): Promise<OrphanDiskItem[]> {
  return client.json('/disks?orphaned=true', z.array(OrphanDiskItem), signal);
}

/** `DELETE /disks/<cid>`: deletes an orphaned disk; the task id. */
export function deleteOrphanDisk(client: DirectorClient, cid: string, signal: AbortSignal): Promise<number> {
  return client.startTask('DELETE', diskPath(cid), signal);
}

/** `DELETE /disks/<cid>?orphan=true`: orphans an instance's disk; the task id. */
export function orphanDisk(client: DirectorClient, cid: string, signal: AbortSignal): Promise<number> {
  return client.startTask('DELETE', `${diskPath(cid)}${query({ orphan: true })}`, signal);
}

export interface AttachDiskRequest {
  readonly deployment: string;
  readonly group: string;
  readonly instance: string;
  readonly cid: string;
  /** `copy`, a JSON object, or undefined. */
  readonly diskProperties: string | undefined;
}

/** `PUT /disks/<cid>/attachments?deployment=&job=&instance_id=[&disk_properties=]`: the task id. */
export function attachDisk(
  client: DirectorClient,
  request: AttachDiskRequest,
  signal: AbortSignal,
): Promise<number> {
  const params = query({
    deployment: request.deployment,
    job: request.group,
    instance_id: request.instance,
    disk_properties: request.diskProperties,
  });
  return client.startTask('PUT', `${diskPath(request.cid)}/attachments${params}`, signal);
}
