import type { Db, Row } from '../db/db.ts';
import type { ProblemType } from './problem-types.ts';

export type ProblemState = 'open' | 'closed' | 'resolved';

export interface ProblemRecord {
  readonly id: number;
  readonly deployment: string;
  readonly type: ProblemType;
  /** Instance id (VM problems) or disk CID (disk problems). */
  readonly resourceId: string;
  readonly instanceId: string | null;
  readonly data: Readonly<Record<string, unknown>>;
  readonly state: ProblemState;
  readonly counter: number;
}

export interface FoundProblem {
  readonly type: ProblemType;
  readonly resourceId: string;
  readonly instanceId: string;
  readonly data?: Readonly<Record<string, unknown>>;
}

/** The `cloud_check_problems` table (migration 012), BOSH's problem register. */
export class ProblemStore {
  readonly #db: Db;
  constructor(db: Db) {
    this.#db = db;
  }

  /**
   * Starts a scan: the deployment's open problems (only those of `instanceIds` when given) are
   * closed; the scan reopens what it finds again.
   */
  async reset(deployment: string, instanceIds: readonly string[] | null): Promise<void> {
    if (instanceIds === null) {
      await this.#db.execute(
        `UPDATE cloud_check_problems SET state = 'closed' WHERE deployment = $1 AND state = 'open'`,
        [deployment],
      );
      return;
    }
    for (const id of instanceIds) {
      await this.#db.execute(
        `UPDATE cloud_check_problems SET state = 'closed' WHERE deployment = $1 AND state = 'open' AND instance_id = $2`,
        [deployment, id],
      );
    }
  }

  /** Records a problem: the same type on the same resource is reopened and counted, not duplicated. */
  async found(deployment: string, problem: FoundProblem): Promise<number> {
    const now = new Date().toISOString();
    const data = JSON.stringify(problem.data ?? {});
    return this.#db.transaction(async (tx) => {
      const [row] = await tx.query<{ id: number }>(
        `SELECT id FROM cloud_check_problems WHERE deployment = $1 AND type = $2 AND resource_id = $3 AND state <> 'resolved' ORDER BY id DESC`,
        [deployment, problem.type, problem.resourceId],
      );
      if (row) {
        await tx.execute(
          `UPDATE cloud_check_problems SET state = 'open', counter = counter + 1, data = $1, last_seen_at = $2 WHERE id = $3`,
          [data, now, row.id],
        );
        return Number(row.id);
      }
      const [inserted] = await tx.query<{ id: number }>(
        `INSERT INTO cloud_check_problems (deployment, type, resource_id, instance_id, data, state, counter, created_at, last_seen_at)
         VALUES ($1, $2, $3, $4, $5, 'open', 1, $6, $6) RETURNING id`,
        [deployment, problem.type, problem.resourceId, problem.instanceId, data, now],
      );
      return Number(inserted?.id);
    });
  }

  async open(deployment: string): Promise<ProblemRecord[]> {
    const rows = await this.#db.query(
      `SELECT * FROM cloud_check_problems WHERE deployment = $1 AND state = 'open' ORDER BY id`,
      [deployment],
    );
    return rows.map(toProblem);
  }

  async get(id: number): Promise<ProblemRecord | null> {
    const [row] = await this.#db.query('SELECT * FROM cloud_check_problems WHERE id = $1', [id]);
    return row ? toProblem(row) : null;
  }

  async setState(id: number, state: ProblemState): Promise<void> {
    await this.#db.execute('UPDATE cloud_check_problems SET state = $1 WHERE id = $2', [state, id]);
  }

  async deleteDeployment(deployment: string): Promise<void> {
    await this.#db.execute('DELETE FROM cloud_check_problems WHERE deployment = $1', [deployment]);
  }
}

function toProblem(row: Row): ProblemRecord {
  return {
    id: Number(row.id),
    deployment: String(row.deployment),
    type: String(row.type) as ProblemType,
    resourceId: String(row.resource_id),
    instanceId: typeof row.instance_id === 'string' ? row.instance_id : null,
    data: JSON.parse(String(row.data)) as Record<string, unknown>,
    state: String(row.state) as ProblemState,
    counter: Number(row.counter),
  };
}
