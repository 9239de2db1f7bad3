import type { Db, Row } from '../db/db.ts';
import { orphanDiskRow } from '../disks/orphan-disk-store.ts';
import { BugError } from '../errors.ts';
import type {
  CurrentDisk,
  CurrentInstance,
  InstancePlan,
  InstanceState,
  IpReservation,
} from '../planner/plan-types.ts';
import type {
  AppliedState,
  InstanceStateStore,
  LeftoverVm,
  StoredVm,
  VmRef,
} from '../updater/updater-ports.ts';

export interface DeploymentRecord {
  readonly name: string;
  /** The last successfully deployed manifest; null before the first deploy succeeds. */
  readonly manifest: string | null;
  readonly cloudConfigId: number | null;
  readonly createdAt: string;
}

/** An instance row with its VM and disk, as the API shows it. */
export interface InstanceRecord extends CurrentInstance {
  readonly deployment: string;
  readonly applySpec: Record<string, unknown> | null;
}

/** An inactive persistent disk (`persistent_disks.active = 0`) and the instance it was made for. */
export interface InactiveDiskRecord {
  readonly instanceId: string;
  readonly disk: CurrentDisk;
}

const json = (value: unknown) => JSON.stringify(value);
const parse = <T>(text: unknown, fallback: T): T =>
  typeof text === 'string' && text !== '' ? (JSON.parse(text) as T) : fallback;

/** The deployments tables (migrations 006, 014 and 017; disks leave for 015's `orphan_disks`). */
export class DeploymentStore {
  readonly #db: Db;
  constructor(db: Db) {
    this.#db = db;
  }

  async get(name: string): Promise<DeploymentRecord | null> {
    const [row] = await this.#db.query('SELECT * FROM deployments WHERE name = $1', [name]);
    return row ? toDeployment(row) : null;
  }

  async list(): Promise<DeploymentRecord[]> {
    return (await this.#db.query('SELECT * FROM deployments ORDER BY name')).map(toDeployment);
  }

  /** The row exists from the first deploy on (its manifest only once a deploy succeeded). */
  async ensure(name: string): Promise<void> {
    await this.#db.transaction(async (tx) => {
      const [row] = await tx.query('SELECT name FROM deployments WHERE name = $1', [name]);
      if (!row) {
        await tx.execute(
          'INSERT INTO deployments (name, manifest, cloud_config_id, created_at) VALUES ($1, NULL, NULL, $2)',
          [name, new Date().toISOString()],
        );
      }
    });
  }

  async saveManifest(name: string, manifest: string, cloudConfigId: number | null): Promise<void> {
    await this.#db.execute('UPDATE deployments SET manifest = $1, cloud_config_id = $2 WHERE name = $3', [
      manifest,
      cloudConfigId,
      name,
    ]);
  }

  /** The deployment's rows; a disk still recorded (a forced delete) is orphaned, never lost. */
  async delete(name: string): Promise<void> {
    await this.#db.transaction(async (tx) => {
      await orphanInstanceDisks(tx, 'deployment', name);
      for (const table of ['vms', 'instances']) {
        await tx.execute(`DELETE FROM ${table} WHERE deployment = $1`, [name]);
      }
      await tx.execute('DELETE FROM deployments WHERE name = $1', [name]);
    });
  }

  async instances(deployment: string): Promise<InstanceRecord[]> {
    const rows = await this.#db.query(
      'SELECT * FROM instances WHERE deployment = $1 ORDER BY group_name, idx',
      [deployment],
    );
    const vms = new Map(
      (await this.#db.query('SELECT * FROM vms WHERE deployment = $1', [deployment])).map((r) => [
        String(r.instance_id),
        r,
      ]),
    );
    const disks = new Map(
      // An instance's disk is its active one; an inactive disk (a migration's new disk before the
      // switch) is read by `inactiveDisks` only.
      (
        await this.#db.query('SELECT * FROM persistent_disks WHERE deployment = $1 AND active = 1', [
          deployment,
        ])
      ).map((r) => [String(r.instance_id), r]),
    );
    return rows.map((row) =>
      toInstance(row, vms.get(String(row.id)) ?? null, disks.get(String(row.id)) ?? null),
    );
  }

  /**
   * The deployment's inactive disks (BOSH's `active: false` rows): the new disk of a migration
   * the director did not finish. Cloud check's `inactive_disk` problems are these.
   */
  async inactiveDisks(deployment: string): Promise<InactiveDiskRecord[]> {
    const rows = await this.#db.query(
      'SELECT cid, instance_id, size, cloud_properties FROM persistent_disks WHERE deployment = $1 AND active = 0 ORDER BY cid',
      [deployment],
    );
    return rows.map((r) => ({ instanceId: String(r.instance_id), disk: toDisk(r) }));
  }

  /** Cloud check's `activate_disk`: the inactive disk becomes the instance's, when it has none. */
  async activateDisk(instanceId: string, cid: string): Promise<boolean> {
    return this.#db.transaction(async (tx) => {
      const active = await tx.query(
        'SELECT cid FROM persistent_disks WHERE instance_id = $1 AND active = 1',
        [instanceId],
      );
      if (active.length > 0) return false;
      await tx.execute('UPDATE persistent_disks SET active = 1 WHERE cid = $1 AND instance_id = $2', [
        cid,
        instanceId,
      ]);
      return true;
    });
  }

  /** A new instance's row before anything is created for it: dirty until its update completes. */
  async createInstance(deployment: string, plan: InstancePlan): Promise<void> {
    await this.#db.execute(
      `INSERT INTO instances (id, deployment, group_name, idx, az, state, update_completed, hashes, apply_spec, tags, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, 0, $7, NULL, $8, $9)`,
      [
        plan.id,
        deployment,
        plan.group,
        plan.index,
        plan.az,
        plan.desiredState,
        json({ packages: null, job: null, configuration: null }),
        json(plan.tags),
        new Date().toISOString(),
      ],
    );
  }

  /** Keeps an existing instance's row in step with its plan (group rename, index, AZ). */
  async placeInstance(plan: InstancePlan): Promise<void> {
    await this.#db.execute('UPDATE instances SET group_name = $1, idx = $2, az = $3 WHERE id = $4', [
      plan.group,
      plan.index,
      plan.az,
      plan.id,
    ]);
  }

  async setState(instanceId: string, state: InstanceState): Promise<void> {
    await this.#db.execute('UPDATE instances SET state = $1 WHERE id = $2', [state, instanceId]);
  }

  /** The updater's port onto these tables, for one deployment. */
  stateStore(deployment: string): InstanceStateStore {
    const db = this.#db;
    return {
      async updateStarted(id) {
        await db.execute('UPDATE instances SET update_completed = 0 WHERE id = $1', [id]);
      },
      async vmCreated(id, vm: StoredVm) {
        await db.transaction((tx) => recordVm(tx, deployment, id, vm));
      },
      async vmDeleted(id, cid) {
        await db.execute('DELETE FROM vms WHERE instance_id = $1 AND cid = $2', [id, cid]);
      },
      async diskCreated(id, disk: CurrentDisk) {
        await db.transaction((tx) => insertDisk(tx, deployment, id, disk, true));
      },
      async inactiveDiskCreated(id, disk: CurrentDisk) {
        await db.transaction((tx) => insertDisk(tx, deployment, id, disk, false));
      },
      async inactiveDisks(id): Promise<CurrentDisk[]> {
        const rows = await db.query(
          'SELECT cid, size, cloud_properties FROM persistent_disks WHERE instance_id = $1 AND active = 0 ORDER BY cid',
          [id],
        );
        return rows.map(toDisk);
      },
      async diskDeleted(_id, cid) {
        await db.execute('DELETE FROM persistent_disks WHERE cid = $1', [cid]);
      },
      async diskOrphaned(_id, cid) {
        await db.transaction((tx) => orphanDiskRow(tx, cid));
      },
      async diskReplaced(id, oldCid, disk: CurrentDisk) {
        // BOSH's switch: the flags flip and the old disk is orphaned, all or nothing. The new
        // disk's inactive row (written after `create_disk`) becomes active; without one it is
        // inserted active.
        await db.transaction(async (tx) => {
          await orphanDiskRow(tx, oldCid);
          const [row] = await tx.query('SELECT instance_id FROM persistent_disks WHERE cid = $1', [disk.cid]);
          if (row === undefined) await insertDisk(tx, deployment, id, disk, true);
          else if (String(row.instance_id) !== id) {
            throw new BugError(
              `disk ${disk.cid} is recorded for instance ${String(row.instance_id)}, not ${id}`,
            );
          } else {
            await tx.execute(
              'UPDATE persistent_disks SET active = 1, size = $1, cloud_properties = $2 WHERE cid = $3',
              [disk.size, json(disk.cloudProperties), disk.cid],
            );
          }
        });
      },
      async vmLeftover(id, vm: VmRef) {
        await db.transaction((tx) => recordLeftover(tx, deployment, id, vm, []));
      },
      async vmSwapped(id, old: VmRef, vm: StoredVm, oldIps: readonly IpReservation[]) {
        await db.transaction(async (tx) => {
          await recordVm(tx, deployment, id, vm);
          await tx.execute('DELETE FROM leftover_vms WHERE cid = $1', [vm.cid]);
          await recordLeftover(tx, deployment, id, old, oldIps);
        });
      },
      async vmOrphaned(cid) {
        await db.execute('UPDATE leftover_vms SET orphaned_at = $1 WHERE cid = $2', [
          new Date().toISOString(),
          cid,
        ]);
      },
      async leftoverVmDeleted(cid) {
        await db.transaction(async (tx) => {
          const [row] = await tx.query('SELECT ip_reservations FROM leftover_vms WHERE cid = $1', [cid]);
          for (const r of parse<IpReservation[]>(row?.ip_reservations, [])) {
            await tx.execute(
              'DELETE FROM ip_reservations WHERE network = $1 AND ip = $2 AND deployment = $3 AND instance_id = $4',
              [r.network, r.ip, r.deployment, r.instanceId],
            );
          }
          await tx.execute('DELETE FROM leftover_vms WHERE cid = $1', [cid]);
        });
      },
      async leftoverVms(): Promise<LeftoverVm[]> {
        // A leftover that is an instance's VM again (never by the updater) is not deleted.
        await db.execute(
          'DELETE FROM leftover_vms WHERE deployment = $1 AND cid IN (SELECT cid FROM vms WHERE deployment = $1)',
          [deployment],
        );
        const rows = await db.query(
          'SELECT cid, agent_id, instance_id, ip_reservations FROM leftover_vms WHERE deployment = $1 ORDER BY created_at, cid',
          [deployment],
        );
        return rows.map((r) => ({
          cid: String(r.cid),
          agentId: String(r.agent_id),
          instanceId: String(r.instance_id),
          ips: parse<IpReservation[]>(r.ip_reservations, []),
        }));
      },
      async updateCompleted(id, applied: AppliedState) {
        await db.execute(
          'UPDATE instances SET update_completed = 1, state = $1, hashes = $2, apply_spec = $3 WHERE id = $4',
          [applied.state, json(applied.hashes), json(applied.applySpec), id],
        );
      },
      async instanceDeleted(id) {
        await db.transaction(async (tx) => {
          // A disk still recorded (a forced delete past an error) is orphaned, never lost.
          await orphanInstanceDisks(tx, 'instance_id', id);
          await tx.execute('DELETE FROM vms WHERE instance_id = $1', [id]);
          await tx.execute('DELETE FROM instances WHERE id = $1', [id]);
          await tx.execute('DELETE FROM ip_reservations WHERE instance_id = $1', [id]);
        });
      },
    };
  }
}

/** Orphans every disk still recorded for an instance or a deployment (the rows move, in `tx`). */
async function orphanInstanceDisks(tx: Db, column: 'instance_id' | 'deployment', value: string) {
  const rows = await tx.query(`SELECT cid FROM persistent_disks WHERE ${column} = $1 ORDER BY cid`, [value]);
  for (const row of rows) await orphanDiskRow(tx, String(row.cid));
}

async function insertDisk(tx: Db, deployment: string, id: string, disk: CurrentDisk, active: boolean) {
  await tx.execute(
    'INSERT INTO persistent_disks (cid, instance_id, deployment, size, cloud_properties, active) VALUES ($1, $2, $3, $4, $5, $6)',
    [disk.cid, id, deployment, disk.size, json(disk.cloudProperties), active ? 1 : 0],
  );
}

function toDisk(row: Row): CurrentDisk {
  return { cid: String(row.cid), size: Number(row.size), cloudProperties: parse(row.cloud_properties, {}) };
}

/** The instance's one VM row, replaced. */
async function recordVm(tx: Db, deployment: string, id: string, vm: StoredVm): Promise<void> {
  await tx.execute('DELETE FROM vms WHERE instance_id = $1', [id]);
  await tx.execute(
    `INSERT INTO vms (instance_id, deployment, cid, agent_id, stemcell_name, stemcell_version, cloud_properties, env, network_settings, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
    [
      id,
      deployment,
      vm.cid,
      vm.agentId,
      vm.stemcell.name,
      vm.stemcell.version,
      json(vm.cloudProperties),
      json(vm.env),
      json(vm.networkSettings),
      vm.createdAt,
    ],
  );
}

async function recordLeftover(
  tx: Db,
  deployment: string,
  id: string,
  vm: VmRef,
  ips: readonly IpReservation[],
): Promise<void> {
  await tx.execute('DELETE FROM leftover_vms WHERE cid = $1', [vm.cid]);
  await tx.execute(
    'INSERT INTO leftover_vms (cid, deployment, instance_id, agent_id, ip_reservations, created_at) VALUES ($1, $2, $3, $4, $5, $6)',
    [vm.cid, deployment, id, vm.agentId, json(ips), new Date().toISOString()],
  );
}

function toDeployment(row: Row): DeploymentRecord {
  return {
    name: String(row.name),
    manifest: typeof row.manifest === 'string' ? row.manifest : null,
    cloudConfigId: row.cloud_config_id == null ? null : Number(row.cloud_config_id),
    createdAt: String(row.created_at),
  };
}

function toInstance(row: Row, vm: Row | null, disk: Row | null): InstanceRecord {
  return {
    id: String(row.id),
    deployment: String(row.deployment),
    group: String(row.group_name),
    index: Number(row.idx),
    az: typeof row.az === 'string' ? row.az : null,
    state: String(row.state) as InstanceState,
    vm: vm
      ? {
          cid: String(vm.cid),
          agentId: String(vm.agent_id),
          stemcell: { name: String(vm.stemcell_name), version: String(vm.stemcell_version) },
          cloudProperties: parse(vm.cloud_properties, {}),
          env: parse(vm.env, {}),
          networkSettings: parse(vm.network_settings, {}),
          createdAt: String(vm.created_at),
        }
      : null,
    hashes: parse(row.hashes, { packages: null, job: null, configuration: null }),
    disk: disk ? toDisk(disk) : null,
    tags: parse(row.tags, null),
    updateCompleted: Number(row.update_completed) === 1,
    agentResponsive: null,
    jobState: null,
    applySpec: parse(row.apply_spec, null),
  };
}
