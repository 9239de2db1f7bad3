import { z } from 'zod';
import { LockAsRead } from '@refit/protocol';
import type { DirectorClient } from './director-client.ts';

export interface Lock {
  readonly type: string;
  readonly resource: readonly string[];
  readonly taskId: string;
  /** Unix seconds (BOSH sends a string float). */
  readonly expiresAt: number | undefined;
}

export async function listLocks(client: DirectorClient, signal: AbortSignal): Promise<Lock[]> {
  const items = await client.json('/locks', z.array(LockAsRead), signal);
  return items.map((l) => {
    const timeout = Number(l.timeout ?? '');
    return {
      type: l.type ?? '',
      resource: l.resource ?? [],
      taskId: l.task_id ?? '',
      expiresAt:
        l.timeout === null || l.timeout === undefined || !Number.isFinite(timeout) ? undefined : timeout,
    };
  });
}
