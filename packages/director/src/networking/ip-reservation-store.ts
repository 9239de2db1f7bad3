import type { Db, Row } from '../db/db.ts';
import { DirectorError } from '../errors.ts';
import type { IpReservation } from '../planner/plan-types.ts';

/** An address another instance already holds (BOSH's NetworkReservationAlreadyInUse). */
export class IpAddressInUse extends DirectorError {
  static readonly code = 130001;
  constructor(message: string) {
    super(IpAddressInUse.code, 400, message);
  }
}

interface ReservationRow extends Row {
  network: string;
  ip: string;
  deployment: string;
  instance_id: string;
  type: string;
}

/** Persisted IP reservations (migration 005). The planner decides; this records. */
export class DbIpReservationStore {
  readonly #db: Db;
  readonly #now: () => Date;

  constructor(db: Db, now: () => Date = () => new Date()) {
    this.#db = db;
    this.#now = now;
  }

  /** Reservations of one deployment (`current.reservations` for the planner). */
  async forDeployment(deployment: string): Promise<IpReservation[]> {
    const rows = await this.#db.query<ReservationRow>(
      'SELECT * FROM ip_reservations WHERE deployment = $1 ORDER BY network, ip',
      [deployment],
    );
    return rows.map(toReservation);
  }

  /** Reservations of every other deployment (`current.otherReservations`). */
  async ofOtherDeployments(deployment: string): Promise<IpReservation[]> {
    const rows = await this.#db.query<ReservationRow>(
      'SELECT * FROM ip_reservations WHERE deployment <> $1 ORDER BY network, ip',
      [deployment],
    );
    return rows.map(toReservation);
  }

  /**
   * Records a plan's `ipReservations` in one transaction: releases first, then adds. An address
   * held by another instance fails the whole change with IpAddressInUse (nothing is written).
   * Adding a reservation the same instance already holds is a no-op.
   */
  async apply(change: {
    readonly add: readonly IpReservation[];
    readonly release: readonly IpReservation[];
  }): Promise<void> {
    await this.#db.transaction(async (tx) => {
      for (const r of change.release) {
        await tx.execute(
          'DELETE FROM ip_reservations WHERE network = $1 AND ip = $2 AND deployment = $3 AND instance_id = $4',
          [r.network, r.ip, r.deployment, r.instanceId],
        );
      }
      const at = this.#now().toISOString();
      for (const r of change.add) {
        const { rowCount } = await tx.execute(
          `INSERT INTO ip_reservations (network, ip, deployment, instance_id, type, created_at)
           VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (network, ip) DO NOTHING`,
          [r.network, r.ip, r.deployment, r.instanceId, r.type, at],
        );
        if (rowCount > 0) continue;
        const [holder] = await tx.query<ReservationRow>(
          'SELECT * FROM ip_reservations WHERE network = $1 AND ip = $2',
          [r.network, r.ip],
        );
        if (holder && (holder.deployment !== r.deployment || holder.instance_id !== r.instanceId)) {
          throw new IpAddressInUse(
            `IP ${r.ip} on network '${r.network}' is already reserved by instance ${holder.instance_id} of deployment '${holder.deployment}'`,
          );
        }
      }
    });
  }

  /** Drops every reservation of an instance (instance deleted). */
  async releaseInstance(deployment: string, instanceId: string): Promise<number> {
    const { rowCount } = await this.#db.execute(
      'DELETE FROM ip_reservations WHERE deployment = $1 AND instance_id = $2',
      [deployment, instanceId],
    );
    return rowCount;
  }

  /** Drops every reservation of a deployment (deployment deleted). */
  async releaseDeployment(deployment: string): Promise<number> {
    const { rowCount } = await this.#db.execute('DELETE FROM ip_reservations WHERE deployment = $1', [
      deployment,
    ]);
    return rowCount;
  }
}

function toReservation(row: ReservationRow): IpReservation {
  return {
    deployment: row.deployment,
    instanceId: row.instance_id,
    network: row.network,
    ip: row.ip,
    type: row.type === 'static' ? 'static' : 'dynamic',
  };
}
