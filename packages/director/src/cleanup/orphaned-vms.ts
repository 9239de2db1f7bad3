import type { OrphanedVmAsRead } from '@refit/protocol';
import type { Db } from '../db/db.ts';

/**
 * A VM no instance owns that the director must still delete: Refit's `leftover_vms` (the new
 * VM of a `create-swap-delete` until its swap, the old one after it, orphaned once the instance
 * runs on the new one: then `orphaned_at` is set), BOSH's orphaned VMs.
 */
export interface OrphanedVm {
  readonly cid: string;
  readonly deployment: string;
  readonly instanceId: string;
  /** `<group>/<id>` when the instance still exists, else its id. */
  readonly instanceName: string;
  readonly az: string | null;
  readonly ips: readonly string[];
  /** ISO 8601. */
  readonly orphanedAt: string;
}

/** Every leftover VM that is not an instance's VM again, oldest first. Read only. */
export async function listOrphanedVms(db: Db): Promise<OrphanedVm[]> {
  const rows = await db.query(
    `SELECT l.cid, l.deployment, l.instance_id, l.ip_reservations, i.group_name, i.az,
            COALESCE(l.orphaned_at, l.created_at) AS orphaned_at
     FROM leftover_vms l LEFT JOIN instances i ON i.id = l.instance_id
     WHERE NOT EXISTS (SELECT 1 FROM vms v WHERE v.cid = l.cid)
     ORDER BY l.created_at, l.cid`,
  );
  return rows.map((row) => {
    const instanceId = String(row.instance_id);
    const group = typeof row.group_name === 'string' ? row.group_name : null;
    return {
      cid: String(row.cid),
      deployment: String(row.deployment),
      instanceId,
      instanceName: group === null ? instanceId : `${group}/${instanceId}`,
      az: typeof row.az === 'string' ? row.az : null,
      ips: addresses(row.ip_reservations),
      orphanedAt: String(row.orphaned_at),
    };
  });
}

function addresses(text: unknown): string[] {
  try {
    const parsed: unknown = JSON.parse(String(text));
    if (!Array.isArray(parsed)) return [];
    return parsed.flatMap((r: unknown) =>
      typeof r === 'object' && r !== null && typeof (r as { ip?: unknown }).ip === 'string'
        ? [(r as { ip: string }).ip]
        : [],
    );
  } catch {
    return [];
  }
}

/** Ruby's `Time#to_s` in UTC, as BOSH's API prints times: `2026-11-25 03:04:05 UTC`. */
export function rubyTime(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return `${date.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

/** `GET /orphaned_vms` element. */
export function orphanedVmAsRead(vm: OrphanedVm): OrphanedVmAsRead {
  return {
    az: vm.az,
    cid: vm.cid,
    deployment_name: vm.deployment,
    instance_name: vm.instanceName,
    ip_addresses: [...vm.ips],
    orphaned_at: rubyTime(vm.orphanedAt),
  };
}
