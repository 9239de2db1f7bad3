import type { CleanupDryRun } from '@refit/protocol';
import type { Db } from '../db/db.ts';
import { ReleaseStore } from '../releases/release-store.ts';
import { matchKey, RootfsStore, type RootfsRecord } from '../rootfs/rootfs-store.ts';
import { holderIsLive } from '../rootfs/stale-reservations.ts';
import { StemcellStore, type StemcellRecord } from '../stemcells/stemcell-store.ts';
import { listOrphanedVms, orphanedVmAsRead, rubyTime, type OrphanedVm } from './orphaned-vms.ts';
import {
  pickCompiledPackages,
  pickReleases,
  pickVersioned,
  VERSIONS_KEPT,
  type ReleaseToDelete,
} from './pick-unused.ts';

/** `clean-up` options, validated at the edge. */
export interface CleanupOptions {
  /** `--all`: no unused version is kept, and compiled packages and orphaned disks go too. */
  readonly removeAll: boolean;
  readonly keepOrphanedDisks: boolean;
}

export interface StemcellToDelete extends StemcellRecord {
  readonly deployments: readonly string[];
}

export interface RootfsToDelete extends RootfsRecord {
  readonly deployments: readonly string[];
  readonly heldBy: readonly string[];
}

export interface CompiledPackageToDelete {
  readonly id: number;
  readonly packageName: string;
  readonly stemcellOs: string;
  readonly stemcellVersion: string;
  readonly blobstoreId: string;
}

/** An orphaned disk as clean-up lists it (BOSH's `GET /disks` element). */
export interface OrphanedDiskToDelete {
  readonly cid: string;
  readonly size: number;
  readonly az: string | null;
  readonly deploymentName: string;
  readonly instanceName: string;
  readonly cloudProperties: Record<string, unknown>;
  /** ISO 8601. */
  readonly orphanedAt: string;
}

/** Lists the orphaned disks (the disks module's store), when the director has them. */
export type OrphanedDisksSource = () => Promise<readonly OrphanedDiskToDelete[]>;

/** What a clean-up would delete now, in the order it deletes. */
export interface CleanupPlan {
  readonly orphanedVms: readonly OrphanedVm[];
  readonly releases: readonly ReleaseToDelete[];
  readonly stemcells: readonly StemcellToDelete[];
  readonly rootfs: readonly RootfsToDelete[];
  readonly compiledPackages: readonly CompiledPackageToDelete[];
  readonly orphanedDisks: readonly OrphanedDiskToDelete[];
}

/** Reads the director's artifacts and what uses them, and picks what goes. Read only. */
export async function planCleanup(
  db: Db,
  options: CleanupOptions,
  orphanedDisks: OrphanedDisksSource | null,
): Promise<CleanupPlan> {
  const keep = options.removeAll ? 0 : VERSIONS_KEPT;
  const stemcellStore = new StemcellStore(db);
  const stemcellRows = await stemcellStore.list();
  const stemcellUsages = await stemcellStore.allUsages();
  const stemcells = stemcellRows.map((s) => ({ ...s, deployments: stemcellUsages.get(s.id) ?? [] }));

  const releases = await releasesInUse(db);

  // A rootfs is what a reload stages for the IaaS stemcell of the same OS and version: the
  // deployments using that stemcell use it, and a reload in progress holds it.
  const usersByOsVersion = new Map<string, Set<string>>();
  for (const s of stemcells) {
    const key = matchKey(s.operatingSystem, s.version);
    const users = usersByOsVersion.get(key) ?? new Set<string>();
    for (const d of s.deployments) users.add(d);
    usersByOsVersion.set(key, users);
  }
  const holders = await liveReservations(db);
  const rootfs = (await new RootfsStore(db).list()).map((r) => ({
    ...r,
    deployments: [...(usersByOsVersion.get(matchKey(r.operatingSystem, r.version)) ?? [])].sort(),
    heldBy: holders.get(r.id) ?? [],
  }));

  const pickedStemcells = pickVersioned(stemcells, keep);
  const compiledPackages = options.removeAll
    ? pickCompiledPackages(
        await compiledPackageRows(db),
        stemcellRows,
        new Set(pickedStemcells.map((s) => s.id)),
      )
    : [];
  const disks =
    options.removeAll && !options.keepOrphanedDisks && orphanedDisks !== null ? await orphanedDisks() : [];
  return {
    orphanedVms: await listOrphanedVms(db),
    releases: pickReleases(releases, keep),
    stemcells: pickedStemcells,
    rootfs: pickVersioned(rootfs, keep),
    compiledPackages,
    orphanedDisks: disks,
  };
}

async function releasesInUse(db: Db) {
  const store = new ReleaseStore(db);
  const [releases, versions, usages] = await Promise.all([
    store.releases(),
    store.versions(),
    store.usages(),
  ]);
  return releases.map((r) => ({
    name: r.name,
    versions: versions
      .filter((v) => v.releaseId === r.id)
      .map((v) => ({ version: v.version, deployed: (usages.get(v.id) ?? []).length > 0 })),
  }));
}

/** Rootfs id → the holders of reservations that may still be used (read only). */
async function liveReservations(db: Db): Promise<Map<number, string[]>> {
  const rows = await db.query<{ rootfs_id: number; holder: string }>(
    'SELECT rootfs_id, holder FROM rootfs_reservations ORDER BY holder',
  );
  const held = new Map<number, string[]>();
  for (const row of rows) {
    if (!(await holderIsLive(db, String(row.holder)))) continue;
    const id = Number(row.rootfs_id);
    held.set(id, [...(held.get(id) ?? []), String(row.holder)]);
  }
  return held;
}

async function compiledPackageRows(db: Db): Promise<CompiledPackageToDelete[]> {
  const rows = await db.query(
    `SELECT id, package_name, stemcell_os, stemcell_version, blobstore_id FROM compiled_packages
     ORDER BY package_name, stemcell_os, stemcell_version, id`,
  );
  return rows.map((r) => ({
    id: Number(r.id),
    packageName: String(r.package_name),
    stemcellOs: String(r.stemcell_os),
    stemcellVersion: String(r.stemcell_version),
    blobstoreId: String(r.blobstore_id),
  }));
}

/** `GET /cleanup/dryrun` body, BOSH's shape plus `rootfs`. */
export function dryRunBody(plan: CleanupPlan): CleanupDryRun {
  return {
    releases: plan.releases.map((r) => ({ name: r.name, versions: [...r.versions] })),
    stemcells: plan.stemcells.map((s) => ({
      name: s.name,
      version: s.version,
      operating_system: s.operatingSystem,
      cid: s.cid,
      cpi: s.cpi,
      deployments: [...s.deployments],
      id: s.id,
    })),
    compiled_packages: plan.compiledPackages.map((c) => ({
      package_name: c.packageName,
      stemcell_os: c.stemcellOs,
      stemcell_version: c.stemcellVersion,
    })),
    orphaned_disks: plan.orphanedDisks.map((d) => ({
      disk_cid: d.cid,
      size: d.size,
      az: d.az,
      deployment_name: d.deploymentName,
      instance_name: d.instanceName,
      cloud_properties: d.cloudProperties,
      orphaned_at: rubyTime(d.orphanedAt),
    })),
    orphaned_vms: plan.orphanedVms.map(orphanedVmAsRead),
    exported_releases: [],
    dns_blobs: [],
    rootfs: plan.rootfs.map((r) => ({
      name: r.name,
      version: r.version,
      operating_system: r.operatingSystem,
    })),
  };
}

/** The stemcell, rootfs and orphaned disk locks a clean-up of this plan takes, as their delete tasks do. */
export function artifactLocks(plan: CleanupPlan): string[] {
  const names = new Set<string>();
  for (const d of plan.orphanedDisks) names.add(`lock:orphan_disk:${d.cid}`);
  for (const s of plan.stemcells) names.add(`lock:stemcells:${s.name}:${s.version}`);
  for (const r of plan.rootfs) names.add(`lock:rootfs:${r.name}:${r.version}`);
  return [...names].sort();
}
