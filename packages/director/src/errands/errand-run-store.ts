import type { Db } from '../db/db.ts';

/** Migration 020's `errand_runs`: the state hash of each instance's last successful run. */
export class ErrandRunStore {
  readonly #db: Db;
  constructor(db: Db) {
    this.#db = db;
  }

  /** True when every instance's hash matches its last successful run (and there is one). */
  async unchanged(
    deployment: string,
    errand: string,
    states: readonly { instanceId: string; hash: string }[],
  ): Promise<boolean> {
    const rows = await this.#db.query<{ instance_id: string; successful_state_hash: string }>(
      'SELECT instance_id, successful_state_hash FROM errand_runs WHERE deployment = $1 AND errand_name = $2',
      [deployment, errand],
    );
    const last = new Map(rows.map((r) => [r.instance_id, r.successful_state_hash]));
    return states.length > 0 && states.every((s) => last.get(s.instanceId) === s.hash);
  }

  async succeeded(
    deployment: string,
    errand: string,
    state: { instanceId: string; hash: string },
  ): Promise<void> {
    await this.#db.transaction(async (tx) => {
      await tx.query(
        'DELETE FROM errand_runs WHERE deployment = $1 AND errand_name = $2 AND instance_id = $3',
        [deployment, errand, state.instanceId],
      );
      await tx.query(
        'INSERT INTO errand_runs (deployment, errand_name, instance_id, successful_state_hash) VALUES ($1, $2, $3, $4)',
        [deployment, errand, state.instanceId, state.hash],
      );
    });
  }

  /** A failed run forgets the last success: `--when-changed` runs it again. */
  async failed(deployment: string, errand: string, instanceId: string): Promise<void> {
    await this.#db.query(
      'DELETE FROM errand_runs WHERE deployment = $1 AND errand_name = $2 AND instance_id = $3',
      [deployment, errand, instanceId],
    );
  }
}
