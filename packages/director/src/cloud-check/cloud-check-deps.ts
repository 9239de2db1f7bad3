import type { AgentClient } from '../agent-client/agent-client.ts';
import type { Db } from '../db/db.ts';
import { LockTimeout } from '../errors.ts';

/** What cloud check needs beyond DirectorDeps. */
export interface CloudCheckOptions {
  /** Read when a task runs (the NATS client exists only after the features are listed). */
  readonly agents: () => AgentClient;
  /** BOSH's `scan_and_fix.auto_fix_stateful_nodes`: resurrect instances with persistent disks. */
  readonly autoFixStatefulNodes?: boolean;
  /** `get_state` wait of a scan (10 s as BOSH; shorter in tests). */
  readonly agentTimeoutMs?: number;
  readonly agentWaitTimeoutMs?: number;
}

export const deploymentLock = (deployment: string) => `lock:deployment:${deployment}`;

/** The task holding a deployment's lock now, if any (scans take it with timeout 0). */
export async function deploymentLockHolder(db: Db, deployment: string): Promise<number | null> {
  const [row] = await db.query<{ task_id: number }>('SELECT task_id FROM task_locks WHERE name = $1', [
    deploymentLock(deployment),
  ]);
  return row ? Number(row.task_id) : null;
}

/** BOSH's refusal when the deployment lock cannot be had at once. */
export function deploymentLocked(): InstanceType<typeof LockTimeout> {
  return new LockTimeout(
    'Unable to get deployment lock, maybe a deployment is in progress. Try again later.',
  );
}

const PAUSED_KEY = 'resurrection_paused';

/** The global resurrection switch (`bosh update-resurrection on|off`), kept in director_meta. */
export async function resurrectionPaused(db: Db): Promise<boolean> {
  const [row] = await db.query<{ value: string }>('SELECT value FROM director_meta WHERE key = $1', [
    PAUSED_KEY,
  ]);
  return row?.value === 'true';
}

export async function setResurrectionPaused(db: Db, paused: boolean): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.execute('DELETE FROM director_meta WHERE key = $1', [PAUSED_KEY]);
    await tx.execute('INSERT INTO director_meta (key, value) VALUES ($1, $2)', [PAUSED_KEY, String(paused)]);
  });
}
