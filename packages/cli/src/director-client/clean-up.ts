import { z } from 'zod';
import { CleanupDryRun, OrphanedVmAsRead } from '@refit/protocol';
import { query, type DirectorClient } from './director-client.ts';

export interface CleanUpOptions {
  readonly all: boolean;
  readonly keepOrphanedDisks: boolean;
}

/** `GET /cleanup/dryrun`: what a clean-up would delete now. */
export function cleanUpDryRun(
  client: DirectorClient,
  options: CleanUpOptions,
  signal: AbortSignal,
): Promise<CleanupDryRun> {
  const params = query({ remove_all: options.all, keep_orphaned_disks: options.keepOrphanedDisks });
  return client.json(`/cleanup/dryrun${params}`, CleanupDryRun, signal);
}

/** `POST /cleanup`: the task id. */
export function startCleanUp(
  client: DirectorClient,
  options: CleanUpOptions,
  signal: AbortSignal,
): Promise<number> {
  const config = { remove_all: options.all, keep_orphaned_disks: options.keepOrphanedDisks };
  return client.startTask('POST', '/cleanup', signal, {
    kind: 'bytes',
    contentType: 'application/json',
    data: JSON.stringify({ config }),
  });
}

/** `GET /orphaned_vms`. */
export function listOrphanedVms(client: DirectorClient, signal: AbortSignal): Promise<OrphanedVmAsRead[]> {
  return client.json('/orphaned_vms', z.array(OrphanedVmAsRead), signal);
}
