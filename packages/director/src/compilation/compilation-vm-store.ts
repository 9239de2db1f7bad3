import type { Db } from '../db/db.ts';

/** A compilation VM as recorded (table `compilation_vms`, migration 013). */
export interface CompilationVmRecord {
  readonly cid: string;
  readonly deployment: string;
  readonly agentId: string;
  /** The reservation owner of its IP (`ip_reservations.instance_id`). */
  readonly instanceId: string;
}

/** A type alias, not an interface: Db rows need an index signature. */
type Row = {
  cid: string;
  deployment: string;
  agent_id: string;
  instance_id: string;
};

/** The compilation VMs that exist, so a later deploy can delete what a failed one left. */
export class CompilationVmStore {
  readonly #db: Db;

  constructor(db: Db) {
    this.#db = db;
  }

  async add(vm: CompilationVmRecord): Promise<void> {
    await this.#db.execute(
      'INSERT INTO compilation_vms (cid, deployment, agent_id, instance_id, created_at) VALUES ($1, $2, $3, $4, $5)',
      [vm.cid, vm.deployment, vm.agentId, vm.instanceId, new Date().toISOString()],
    );
  }

  async remove(cid: string): Promise<void> {
    await this.#db.execute('DELETE FROM compilation_vms WHERE cid = $1', [cid]);
  }

  async forDeployment(deployment: string): Promise<CompilationVmRecord[]> {
    const rows = await this.#db.query<Row>(
      'SELECT cid, deployment, agent_id, instance_id FROM compilation_vms WHERE deployment = $1 ORDER BY created_at, cid',
      [deployment],
    );
    return rows.map((r) => ({
      cid: r.cid,
      deployment: r.deployment,
      agentId: r.agent_id,
      instanceId: r.instance_id,
    }));
  }
}
