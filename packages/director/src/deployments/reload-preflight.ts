import type { Db } from '../db/db.ts';
import { DirectorError } from '../errors.ts';
import type { DeploymentPlan, InstancePlan, PlanSummaryRow } from '../planner/plan-types.ts';
import { RootfsRootDigests } from '../rootfs/rootfs-root-digests.ts';
import { matchKey, RootfsStore, type RootfsRecord } from '../rootfs/rootfs-store.ts';
import type { ReloadSource } from '../updater/reload/reload-source.ts';

/** A reload was asked for but a generic stemcell it needs is not uploaded. */
export class ReloadRootfsMissing extends DirectorError {
  static readonly code = 190030;
  constructor(message: string) {
    super(190030, 400, message);
  }
}

/** The generic stemcells the director holds, as the planner's `reloadable` input. */
export async function reloadableStemcells(db: Db): Promise<{ operatingSystem: string; version: string }[]> {
  return (await new RootfsStore(db).list()).map((r) => ({
    operatingSystem: r.operatingSystem,
    version: r.version,
  }));
}

export interface ReloadPreflight {
  /** The plan, with reloads of instances whose jobs are not to run turned into recreates. */
  readonly plan: DeploymentPlan;
  /** Instance id → the rootfs its agent stages. */
  readonly rootfs: ReadonlyMap<string, RootfsRecord>;
  /** Blobstore id → root.tar's sha256, for the rootfs blobs the upload recorded it for. */
  readonly rootSha256?: ReadonlyMap<string, string>;
}

/**
 * Before any VM is touched: every instance the planner would reload for a stemcell change has
 * its IaaS stemcell v' (the planner's input already) and a generic stemcell v' of the same OS and
 * version; a reload asked for where none is uploaded refuses the deploy, naming what to upload.
 * An instance whose desired state is not `started` is recreated instead (the new root is
 * committed only when its jobs run: a stopped instance would fall back at its next boot).
 */
export async function reloadPreflight(db: Db, plan: DeploymentPlan): Promise<ReloadPreflight> {
  const missing = new Map<string, Set<string>>();
  for (const group of plan.instanceGroups) {
    for (const i of group.instances) {
      const refusal = i.stemcellStrategy?.reloadRefused;
      if (refusal?.kind !== 'no-rootfs') continue;
      const key = `${refusal.operatingSystem}/${refusal.version}`;
      missing.set(key, (missing.get(key) ?? new Set()).add(group.name));
    }
  }
  if (missing.size > 0) {
    const what = [...missing].map(
      ([os, groups]) => `upload-rootfs ${os} (instance groups: ${[...groups].join(', ')})`,
    );
    throw new ReloadRootfsMissing(
      `Reload needs generic stemcells (rootfs) that are not uploaded: ${what.join('; ')}. The IaaS stemcell alone is not enough for --strategy reload`,
    );
  }
  const byKey = await new RootfsStore(db).byOperatingSystemAndVersion();
  const rootfs = new Map<string, RootfsRecord>();
  const instanceGroups = plan.instanceGroups.map((group) => ({
    ...group,
    instances: group.instances.map((i): InstancePlan => {
      if (i.stemcellStrategy?.strategy !== 'reload' || i.stemcell === null) return i;
      if (i.desiredState !== 'started' || i.existing?.state !== 'started') {
        return {
          ...i,
          stemcellStrategy: {
            strategy: 'recreate',
            reason: `reload not possible: the instance is ${i.existing?.state === 'started' ? i.desiredState : (i.existing?.state ?? 'new')} (a reloaded root commits only once its jobs run)`,
            reloadRefused: null,
          },
        };
      }
      const found = byKey.get(matchKey(i.stemcell.operatingSystem, i.stemcell.version));
      if (found === undefined) {
        throw new ReloadRootfsMissing(
          `Reload needs generic stemcell ${i.stemcell.operatingSystem}/${i.stemcell.version}: upload-rootfs ${i.stemcell.operatingSystem}/${i.stemcell.version}`,
        );
      }
      rootfs.set(i.id, found);
      return i;
    }),
  }));
  // root.tar's sha256 as the upload verified it: a VM that keeps that root fetches nothing.
  const rootSha256 = rootfs.size === 0 ? new Map<string, string>() : await new RootfsRootDigests(db).byBlob();
  return { plan: { ...plan, instanceGroups }, rootfs, rootSha256 };
}

/** The reload source of an instance, for its updater target. */
export function reloadSource(
  record: RootfsRecord,
  plan: InstancePlan,
  options: {
    fallback: 'fail' | 'recreate';
    bootTimeoutMs?: number;
    debug?: (line: string) => void;
    rootSha256?: string;
  },
): ReloadSource {
  return {
    stemcell: {
      name: plan.stemcell?.name ?? record.name,
      version: record.version,
      operatingSystem: record.operatingSystem,
    },
    blobstoreId: record.blobstoreId,
    digest: record.sha256.startsWith('sha256:') ? record.sha256 : `sha256:${record.sha256}`,
    size: record.size,
    ...(options.rootSha256 !== undefined ? { rootSha256: options.rootSha256 } : {}),
    fallback: options.fallback,
    ...(options.bootTimeoutMs !== undefined ? { bootTimeoutMs: options.bootTimeoutMs } : {}),
    ...(options.debug ? { debug: options.debug } : {}),
  };
}

/** Holds the rootfs rows a reload task needs (`delete-rootfs` refuses them) until `release`. */
export async function reserveRootfs(
  db: Db,
  ids: Iterable<number>,
  holder: string,
): Promise<() => Promise<void>> {
  const unique = [...new Set(ids)];
  for (const id of unique) {
    await db.execute('INSERT INTO rootfs_reservations (rootfs_id, holder, created_at) VALUES ($1, $2, $3)', [
      id,
      holder,
      new Date().toISOString(),
    ]);
  }
  return async () => {
    if (unique.length > 0) await db.execute('DELETE FROM rootfs_reservations WHERE holder = $1', [holder]);
  };
}

/** `deploy --dry-run` rows with `download_bytes` (rootfs.tgz size for a reload, else 0). */
export function dryRunRows(
  plan: DeploymentPlan,
  rows: readonly PlanSummaryRow[],
  rootfs: ReadonlyMap<string, RootfsRecord>,
): (PlanSummaryRow & { download_bytes: number })[] {
  const byLabel = new Map<string, InstancePlan>();
  for (const group of plan.instanceGroups) {
    for (const i of group.instances) byLabel.set(`${i.group}/${i.id} (${i.index})`, i);
  }
  return rows.map((row) => {
    const instance = byLabel.get(row.instance);
    const record = instance ? rootfs.get(instance.id) : undefined;
    if (instance === undefined || record === undefined || row.strategy !== 'reload')
      return { ...row, download_bytes: 0 };
    const from = instance.existing?.vm?.stemcell.version ?? '';
    const major = (v: string) => v.split('.')[0];
    const note =
      major(from) !== major(record.version)
        ? `; major stemcell bump ${from} → ${record.version}: packages are compiled on compilation VMs first`
        : '';
    return { ...row, reason: `${row.reason}${note}`, download_bytes: record.size };
  });
}
