import { randomBytes } from 'node:crypto';
import type { Db, Migration } from '../db/db.ts';
import { BugError } from '../errors.ts';

/**
 * One agent's own NATS user (reference §3.1, BOSH's per-agent identity): created for the agent id
 * a `create_vm` names, bound to the VM CID the CPI answers, removed with the VM.
 */
export interface AgentNatsUser {
  readonly agentId: string;
  /** `agent-<agent id>` */
  readonly user: string;
  /** 48 hex digits, so it needs no quoting in a URL or in nats-server's config. */
  readonly password: string;
}

export const agentNatsUsersMigration: Migration = {
  id: 'nats-agent-users-1',
  up: () => [
    `CREATE TABLE nats_agent_users (
      agent_id TEXT PRIMARY KEY,
      password TEXT NOT NULL,
      vm_cid TEXT,
      created_ms BIGINT NOT NULL
    )`,
    `CREATE INDEX nats_agent_users_vm ON nats_agent_users (vm_cid)`,
  ],
};

/** Agent ids go into subjects: only characters that cannot widen a subject pattern. */
const SUBJECT_SAFE = /^[A-Za-z0-9_-]{1,128}$/;

export function agentNatsUserName(agentId: string): string {
  if (!SUBJECT_SAFE.test(agentId))
    throw new BugError(`agent id '${agentId}' is not usable in a NATS subject`);
  return `agent-${agentId}`;
}

/** The table `nats_agent_users`: the per-agent users the embedded nats-server is configured with. */
export class AgentNatsUserStore {
  readonly #db: Db;

  constructor(db: Db) {
    this.#db = db;
  }

  /** A new user with a random password for `agentId` (replacing one left by a failed attempt). */
  async create(agentId: string, nowMs: number): Promise<AgentNatsUser> {
    const user = agentNatsUserName(agentId);
    const password = randomBytes(24).toString('hex');
    await this.#db.transaction(async (tx) => {
      await tx.execute('DELETE FROM nats_agent_users WHERE agent_id = $1', [agentId]);
      await tx.execute(
        'INSERT INTO nats_agent_users (agent_id, password, vm_cid, created_ms) VALUES ($1, $2, NULL, $3)',
        [agentId, password, nowMs],
      );
    });
    return { agentId, user, password };
  }

  async bindVm(agentId: string, vmCid: string): Promise<void> {
    await this.#db.execute('UPDATE nats_agent_users SET vm_cid = $1 WHERE agent_id = $2', [vmCid, agentId]);
  }

  /** Removes the user of `agentId`; true when there was one. */
  async removeAgent(agentId: string): Promise<boolean> {
    const { rowCount } = await this.#db.execute('DELETE FROM nats_agent_users WHERE agent_id = $1', [
      agentId,
    ]);
    return rowCount > 0;
  }

  /** Removes the users bound to `vmCid`; true when there was one. */
  async removeVm(vmCid: string): Promise<boolean> {
    const { rowCount } = await this.#db.execute('DELETE FROM nats_agent_users WHERE vm_cid = $1', [vmCid]);
    return rowCount > 0;
  }

  async all(): Promise<AgentNatsUser[]> {
    const rows = await this.#db.query<{ agent_id: string; password: string }>(
      'SELECT agent_id, password FROM nats_agent_users ORDER BY agent_id',
    );
    return rows.map((row) => ({
      agentId: row.agent_id,
      user: agentNatsUserName(row.agent_id),
      password: row.password,
    }));
  }
}
