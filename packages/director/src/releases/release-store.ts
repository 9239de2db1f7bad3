import { JobManifest } from '@refit/protocol';
import type { Db, Row } from '../db/db.ts';

export interface ReleaseVersionRecord {
  readonly id: number;
  readonly releaseId: number;
  readonly releaseName: string;
  readonly version: string;
  readonly commitHash: string | null;
  readonly uncommittedChanges: boolean;
}

export interface PackageRecord {
  readonly id: number;
  readonly releaseId: number;
  readonly name: string;
  readonly version: string;
  readonly fingerprint: string;
  /** Null for a package that came only compiled (compiled release). */
  readonly sha1: string | null;
  readonly blobstoreId: string | null;
  readonly dependencies: readonly string[];
}

export interface JobRecord {
  readonly id: number;
  readonly releaseId: number;
  readonly name: string;
  readonly version: string;
  readonly fingerprint: string;
  readonly sha1: string;
  readonly blobstoreId: string;
  readonly packageNames: readonly string[];
  /** The job's parsed job.MF (templates, packages, properties, consumes, provides). */
  readonly spec: JobManifest;
}

interface VersionRow extends Row {
  id: number;
  release_id: number;
  release_name: string;
  version: string;
  commit_hash: string | null;
  uncommitted_changes: number;
}
interface PackageRow extends Row {
  id: number;
  release_id: number;
  name: string;
  version: string;
  fingerprint: string;
  sha1: string | null;
  blobstore_id: string | null;
  dependencies: string;
}
interface TemplateRow extends Row {
  id: number;
  release_id: number;
  name: string;
  version: string;
  fingerprint: string;
  sha1: string;
  blobstore_id: string;
  package_names: string;
  spec: string;
}

const versionColumns =
  'v.id, v.release_id, r.name AS release_name, v.version, v.commit_hash, v.uncommitted_changes';
const packageColumns =
  'p.id, p.release_id, p.name, p.version, p.fingerprint, p.sha1, p.blobstore_id, p.dependencies';
const templateColumns =
  't.id, t.release_id, t.name, t.version, t.fingerprint, t.sha1, t.blobstore_id, t.package_names, t.spec';

export const toVersion = (row: VersionRow): ReleaseVersionRecord => ({
  id: row.id,
  releaseId: row.release_id,
  releaseName: row.release_name,
  version: row.version,
  commitHash: row.commit_hash,
  uncommittedChanges: Number(row.uncommitted_changes) === 1,
});
export const toPackage = (row: PackageRow): PackageRecord => ({
  id: row.id,
  releaseId: row.release_id,
  name: row.name,
  version: row.version,
  fingerprint: row.fingerprint,
  sha1: row.sha1,
  blobstoreId: row.blobstore_id,
  dependencies: JSON.parse(row.dependencies) as string[],
});
export const toJob = (row: TemplateRow): JobRecord => ({
  id: row.id,
  releaseId: row.release_id,
  name: row.name,
  version: row.version,
  fingerprint: row.fingerprint,
  sha1: row.sha1,
  blobstoreId: row.blobstore_id,
  packageNames: JSON.parse(row.package_names) as string[],
  spec: JobManifest.parse(JSON.parse(row.spec)),
});

/** Reads of the release tables (writes are in `save-release-version.ts` and `delete-release-task.ts`). */
export class ReleaseStore {
  readonly #db: Db;

  constructor(db: Db) {
    this.#db = db;
  }

  async findRelease(name: string): Promise<{ id: number; name: string } | null> {
    const [row] = await this.#db.query<{ id: number; name: string }>(
      'SELECT id, name FROM releases WHERE name = $1',
      [name],
    );
    return row ?? null;
  }

  async releases(): Promise<{ id: number; name: string }[]> {
    return this.#db.query<{ id: number; name: string }>('SELECT id, name FROM releases ORDER BY name');
  }

  async versions(releaseId?: number): Promise<ReleaseVersionRecord[]> {
    const rows = await this.#db.query<VersionRow>(
      `SELECT ${versionColumns} FROM release_versions v JOIN releases r ON r.id = v.release_id
       ${releaseId === undefined ? '' : 'WHERE v.release_id = $1'} ORDER BY v.id`,
      releaseId === undefined ? [] : [releaseId],
    );
    return rows.map(toVersion);
  }

  async findVersion(releaseName: string, version: string): Promise<ReleaseVersionRecord | null> {
    const [row] = await this.#db.query<VersionRow>(
      `SELECT ${versionColumns} FROM release_versions v JOIN releases r ON r.id = v.release_id
       WHERE r.name = $1 AND v.version = $2`,
      [releaseName, version],
    );
    return row ? toVersion(row) : null;
  }

  async packagesOf(versionId: number): Promise<PackageRecord[]> {
    const rows = await this.#db.query<PackageRow>(
      `SELECT ${packageColumns} FROM packages p JOIN release_version_packages l ON l.package_id = p.id
       WHERE l.release_version_id = $1 ORDER BY p.name`,
      [versionId],
    );
    return rows.map(toPackage);
  }

  async jobsOf(versionId: number): Promise<JobRecord[]> {
    const rows = await this.#db.query<TemplateRow>(
      `SELECT ${templateColumns} FROM templates t JOIN release_version_templates l ON l.template_id = t.id
       WHERE l.release_version_id = $1 ORDER BY t.name`,
      [versionId],
    );
    return rows.map(toJob);
  }

  async packagesOfRelease(releaseId: number): Promise<PackageRecord[]> {
    const rows = await this.#db.query<PackageRow>(
      `SELECT ${packageColumns} FROM packages p WHERE p.release_id = $1 ORDER BY p.name, p.id`,
      [releaseId],
    );
    return rows.map(toPackage);
  }

  async jobsOfRelease(releaseId: number): Promise<JobRecord[]> {
    const rows = await this.#db.query<TemplateRow>(
      `SELECT ${templateColumns} FROM templates t WHERE t.release_id = $1 ORDER BY t.name, t.id`,
      [releaseId],
    );
    return rows.map(toJob);
  }

  /** A package of the release by name and version (fingerprints are checked by the caller). */
  async findPackage(releaseId: number, name: string, version: string): Promise<PackageRecord | null> {
    const [row] = await this.#db.query<PackageRow>(
      `SELECT ${packageColumns} FROM packages p WHERE p.release_id = $1 AND p.name = $2 AND p.version = $3`,
      [releaseId, name, version],
    );
    return row ? toPackage(row) : null;
  }

  async findJob(releaseId: number, name: string, version: string): Promise<JobRecord | null> {
    const [row] = await this.#db.query<TemplateRow>(
      `SELECT ${templateColumns} FROM templates t WHERE t.release_id = $1 AND t.name = $2 AND t.version = $3`,
      [releaseId, name, version],
    );
    return row ? toJob(row) : null;
  }

  /** Any package with this fingerprint whose source blob is stored (BOSH reuses its bits). */
  async packageBlobByFingerprint(fingerprint: string): Promise<{ blobstoreId: string; sha1: string } | null> {
    const [row] = await this.#db.query<{ blobstore_id: string; sha1: string }>(
      `SELECT blobstore_id, sha1 FROM packages WHERE fingerprint = $1
       AND blobstore_id IS NOT NULL AND sha1 IS NOT NULL ORDER BY id LIMIT 1`,
      [fingerprint],
    );
    return row ? { blobstoreId: row.blobstore_id, sha1: row.sha1 } : null;
  }

  /** Fingerprints among `fingerprints` of packages whose source is stored (`/packages/matches`). */
  async storedFingerprints(fingerprints: readonly string[]): Promise<string[]> {
    if (fingerprints.length === 0) return [];
    const placeholders = fingerprints.map((_, i) => `$${i + 1}`).join(', ');
    const rows = await this.#db.query<{ fingerprint: string }>(
      `SELECT DISTINCT fingerprint FROM packages WHERE fingerprint IN (${placeholders})
       AND sha1 IS NOT NULL AND blobstore_id IS NOT NULL ORDER BY fingerprint`,
      fingerprints,
    );
    return rows.map((r) => r.fingerprint);
  }

  /** Deployments using each release version (`release_version_usages`, written by deploys). */
  async usages(versionIds?: readonly number[]): Promise<Map<number, string[]>> {
    const rows = await this.#db.query<{ release_version_id: number; deployment: string }>(
      'SELECT release_version_id, deployment FROM release_version_usages ORDER BY deployment',
    );
    const byVersion = new Map<number, string[]>();
    for (const row of rows) {
      const id = Number(row.release_version_id);
      if (versionIds && !versionIds.includes(id)) continue;
      byVersion.set(id, [...(byVersion.get(id) ?? []), row.deployment]);
    }
    return byVersion;
  }

  /** Job names per release version id. */
  async jobNames(): Promise<Map<number, string[]>> {
    const rows = await this.#db.query<{ release_version_id: number; name: string }>(
      `SELECT l.release_version_id, t.name FROM release_version_templates l
       JOIN templates t ON t.id = l.template_id ORDER BY t.name`,
    );
    const byVersion = new Map<number, string[]>();
    for (const row of rows) {
      const id = Number(row.release_version_id);
      byVersion.set(id, [...(byVersion.get(id) ?? []), row.name]);
    }
    return byVersion;
  }
}
