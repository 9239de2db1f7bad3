import type { Db, Row } from '../db/db.ts';

/** One row of `orphan_disks` (migration 015). */
export interface OrphanDiskRecord {
  readonly cid: string;
  readonly size: number;
  readonly cloudProperties: Record<string, unknown>;
  readonly az: string | null;
  readonly deploymentName: string;
  /** `<group>/<uuid>` of the instance the disk belonged to. */
  readonly instanceName: string;
  /** The CPI name of the disk, when the director runs several (null: the only one). */
  readonly cpi: string | null;
  /** When the disk was orphaned (ISO 8601 UTC). */
  readonly createdAt: string;
}

/** A persistent disk as `persistent_disks` holds it, with the instance it is attached to. */
export interface AttachedDiskRecord {
  readonly cid: string;
  readonly instanceId: string;
  readonly deployment: string;
  readonly size: number;
  readonly cloudProperties: Record<string, unknown>;
}

const columns =
  'disk_cid, size, cloud_properties, availability_zone, deployment_name, instance_name, cpi, created_at';

/**
 * The `orphan_disks` table. Moving a disk between `persistent_disks` and here is always one
 * transaction, so a disk is recorded in exactly one of the two at any moment.
 */
export class OrphanDiskStore {
  readonly #db: Db;

  constructor(db: Db) {
    this.#db = db;
  }

  /** Oldest first (BOSH lists in insertion order). */
  async list(): Promise<OrphanDiskRecord[]> {
    const rows = await this.#db.query(`SELECT ${columns} FROM orphan_disks ORDER BY created_at, disk_cid`);
    return rows.map(toRecord);
  }

  async find(cid: string): Promise<OrphanDiskRecord | null> {
    const [row] = await this.#db.query(`SELECT ${columns} FROM orphan_disks WHERE disk_cid = $1`, [cid]);
    return row ? toRecord(row) : null;
  }

  /** Orphans orphaned before `before` (ISO 8601), oldest first: the scheduled cleanup's candidates. */
  async orphanedBefore(before: string): Promise<OrphanDiskRecord[]> {
    const rows = await this.#db.query(
      `SELECT ${columns} FROM orphan_disks WHERE created_at < $1 ORDER BY created_at, disk_cid`,
      [before],
    );
    return rows.map(toRecord);
  }

  async remove(cid: string): Promise<void> {
    await this.#db.execute('DELETE FROM orphan_disks WHERE disk_cid = $1', [cid]);
  }

  /** The `persistent_disks` row of `cid`, if the director has the disk attached to an instance. */
  async findAttached(cid: string): Promise<AttachedDiskRecord | null> {
    const [row] = await this.#db.query(
      'SELECT cid, instance_id, deployment, size, cloud_properties FROM persistent_disks WHERE cid = $1',
      [cid],
    );
    return row ? toAttached(row) : null;
  }

  /**
   * Moves the `persistent_disks` row of `cid` to `orphan_disks` in one transaction, with the
   * instance's AZ and `<group>/<uuid>` name. Null when no instance has the disk recorded.
   */
  async orphan(cid: string, options: { readonly cpi?: string | null; readonly now?: Date } = {}) {
    return this.#db.transaction((tx) => orphanDiskRow(tx, cid, options));
  }

  /**
   * Moves the orphan `cid` back onto `instanceId` (of `deployment`) in one transaction, and
   * returns it as it is recorded there. Null when `cid` is not an orphan.
   */
  async unorphan(cid: string, instanceId: string, deployment: string): Promise<AttachedDiskRecord | null> {
    return this.#db.transaction(async (tx) => {
      const [row] = await tx.query(`SELECT ${columns} FROM orphan_disks WHERE disk_cid = $1`, [cid]);
      if (!row) return null;
      const orphan = toRecord(row);
      await tx.execute('DELETE FROM orphan_disks WHERE disk_cid = $1', [cid]);
      await tx.execute(
        'INSERT INTO persistent_disks (cid, instance_id, deployment, size, cloud_properties) VALUES ($1, $2, $3, $4, $5)',
        [cid, instanceId, deployment, orphan.size, JSON.stringify(orphan.cloudProperties)],
      );
      return {
        cid,
        instanceId,
        deployment,
        size: orphan.size,
        cloudProperties: orphan.cloudProperties,
      };
    });
  }
}

/**
 * The move itself, inside a transaction the caller holds (the deployment store uses it so an
 * instance's rows and its disk's move can share one transaction).
 */
export async function orphanDiskRow(
  tx: Db,
  cid: string,
  options: { readonly cpi?: string | null; readonly now?: Date } = {},
): Promise<OrphanDiskRecord | null> {
  const [row] = await tx.query(
    `SELECT d.cid, d.size, d.cloud_properties, d.deployment, d.instance_id, i.group_name, i.az
       FROM persistent_disks d LEFT JOIN instances i ON i.id = d.instance_id
      WHERE d.cid = $1`,
    [cid],
  );
  if (!row) return null;
  const record: OrphanDiskRecord = {
    cid,
    size: Number(row.size),
    cloudProperties: parseObject(row.cloud_properties),
    az: typeof row.az === 'string' ? row.az : null,
    deploymentName: String(row.deployment),
    instanceName: `${typeof row.group_name === 'string' ? row.group_name : 'unknown'}/${String(row.instance_id)}`,
    cpi: options.cpi ?? null,
    createdAt: (options.now ?? new Date()).toISOString(),
  };
  await tx.execute('DELETE FROM orphan_disks WHERE disk_cid = $1', [cid]);
  await tx.execute(`INSERT INTO orphan_disks (${columns}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, [
    record.cid,
    record.size,
    JSON.stringify(record.cloudProperties),
    record.az,
    record.deploymentName,
    record.instanceName,
    record.cpi,
    record.createdAt,
  ]);
  await tx.execute('DELETE FROM persistent_disks WHERE cid = $1', [cid]);
  return record;
}

function parseObject(text: unknown): Record<string, unknown> {
  if (typeof text !== 'string' || text === '') return {};
  const value: unknown = JSON.parse(text);
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

function toRecord(row: Row): OrphanDiskRecord {
  return {
    cid: String(row.disk_cid),
    size: Number(row.size),
    cloudProperties: parseObject(row.cloud_properties),
    az: typeof row.availability_zone === 'string' ? row.availability_zone : null,
    deploymentName: String(row.deployment_name),
    instanceName: String(row.instance_name),
    cpi: typeof row.cpi === 'string' ? row.cpi : null,
    createdAt: String(row.created_at),
  };
}

function toAttached(row: Row): AttachedDiskRecord {
  return {
    cid: String(row.cid),
    instanceId: String(row.instance_id),
    deployment: String(row.deployment),
    size: Number(row.size),
    cloudProperties: parseObject(row.cloud_properties),
  };
}
