import type { JobManifest } from '@refit/protocol';
import { CompiledPackageStore } from '../compiled-packages/compiled-package-store.ts';
import type { Db } from '../db/db.ts';

export interface SavedPackage {
  readonly name: string;
  readonly version: string;
  readonly fingerprint: string;
  readonly dependencies: readonly string[];
  /** Source blob (null: none, e.g. a package that came only compiled). */
  readonly blob: { readonly id: string; readonly sha1: string } | null;
  /** The row this package already has in the release, if any. */
  readonly existingId: number | null;
}

export interface SavedJob {
  readonly name: string;
  readonly version: string;
  readonly fingerprint: string;
  readonly blob: { readonly id: string; readonly sha1: string };
  readonly spec: JobManifest;
  readonly existingId: number | null;
}

export interface SavedCompiledPackage {
  readonly packageName: string;
  readonly fingerprint: string;
  readonly dependencyKey: string;
  readonly stemcellOs: string;
  readonly stemcellVersion: string;
  readonly blob: { readonly id: string; readonly sha1: string };
}

export interface SavedReleaseVersion {
  readonly name: string;
  readonly version: string;
  readonly commitHash: string | null;
  readonly uncommittedChanges: boolean;
  readonly packages: readonly SavedPackage[];
  readonly jobs: readonly SavedJob[];
  readonly compiledPackages: readonly SavedCompiledPackage[];
}

/**
 * Writes an uploaded release version in one transaction (so a failed upload leaves no row):
 * the release and version rows, new package and job rows, new blobs on existing rows (fix,
 * or a source added to a package that came compiled), the version's links to its packages and
 * jobs, and compiled packages. Returns the blob ids rows stopped naming (to delete when unused).
 */
export async function saveReleaseVersion(db: Db, saved: SavedReleaseVersion): Promise<string[]> {
  return db.transaction(async (tx) => {
    const now = new Date().toISOString();
    const replaced: string[] = [];
    let [release] = await tx.query<{ id: number }>('SELECT id FROM releases WHERE name = $1', [saved.name]);
    release ??= (
      await tx.query<{ id: number }>('INSERT INTO releases (name, created_at) VALUES ($1, $2) RETURNING id', [
        saved.name,
        now,
      ])
    )[0];
    if (!release) throw new Error('INSERT INTO releases returned no row');
    let [version] = await tx.query<{ id: number }>(
      'SELECT id FROM release_versions WHERE release_id = $1 AND version = $2',
      [release.id, saved.version],
    );
    version ??= (
      await tx.query<{ id: number }>(
        `INSERT INTO release_versions (release_id, version, commit_hash, uncommitted_changes, created_at)
         VALUES ($1, $2, $3, $4, $5) RETURNING id`,
        [release.id, saved.version, saved.commitHash, saved.uncommittedChanges ? 1 : 0, now],
      )
    )[0];
    if (!version) throw new Error('INSERT INTO release_versions returned no row');

    for (const pkg of saved.packages) {
      let id = pkg.existingId;
      if (id === null) {
        const [row] = await tx.query<{ id: number }>(
          `INSERT INTO packages (release_id, name, version, fingerprint, sha1, blobstore_id, dependencies, created_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
          [
            release.id,
            pkg.name,
            pkg.version,
            pkg.fingerprint,
            pkg.blob?.sha1 ?? null,
            pkg.blob?.id ?? null,
            JSON.stringify(pkg.dependencies),
            now,
          ],
        );
        id = row?.id ?? null;
      } else if (pkg.blob !== null) {
        const [old] = await tx.query<{ blobstore_id: string | null }>(
          'SELECT blobstore_id FROM packages WHERE id = $1',
          [id],
        );
        if (old?.blobstore_id != null && old.blobstore_id !== pkg.blob.id) replaced.push(old.blobstore_id);
        await tx.execute('UPDATE packages SET sha1 = $1, blobstore_id = $2 WHERE id = $3', [
          pkg.blob.sha1,
          pkg.blob.id,
          id,
        ]);
      }
      if (id === null) throw new Error('INSERT INTO packages returned no row');
      await link(tx, 'release_version_packages', 'package_id', version.id, id);
    }

    for (const job of saved.jobs) {
      let id = job.existingId;
      if (id === null) {
        const [row] = await tx.query<{ id: number }>(
          `INSERT INTO templates (release_id, name, version, fingerprint, sha1, blobstore_id, package_names, spec, created_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
          [
            release.id,
            job.name,
            job.version,
            job.fingerprint,
            job.blob.sha1,
            job.blob.id,
            JSON.stringify(job.spec.packages),
            JSON.stringify(job.spec),
            now,
          ],
        );
        id = row?.id ?? null;
      } else {
        const [old] = await tx.query<{ blobstore_id: string }>(
          'SELECT blobstore_id FROM templates WHERE id = $1',
          [id],
        );
        if (old && old.blobstore_id !== job.blob.id) replaced.push(old.blobstore_id);
        await tx.execute('UPDATE templates SET sha1 = $1, blobstore_id = $2, spec = $3 WHERE id = $4', [
          job.blob.sha1,
          job.blob.id,
          JSON.stringify(job.spec),
          id,
        ]);
      }
      if (id === null) throw new Error('INSERT INTO templates returned no row');
      await link(tx, 'release_version_templates', 'template_id', version.id, id);
    }

    const compiled = new CompiledPackageStore(tx);
    for (const entry of saved.compiledPackages) {
      const { record, inserted } = await compiled.insert({
        packageName: entry.packageName,
        fingerprint: entry.fingerprint,
        dependencyKey: entry.dependencyKey,
        stemcellOs: entry.stemcellOs,
        stemcellVersion: entry.stemcellVersion,
        sha1: entry.blob.sha1,
        blobstoreId: entry.blob.id,
      });
      if (!inserted && record.blobstoreId !== entry.blob.id) {
        // `fix`: the stored compiled package is replaced by the uploaded bits.
        await tx.execute('UPDATE compiled_packages SET sha1 = $1, blobstore_id = $2 WHERE id = $3', [
          entry.blob.sha1,
          entry.blob.id,
          record.id,
        ]);
        replaced.push(record.blobstoreId);
      }
    }
    return replaced;
  });
}

async function link(tx: Db, table: string, column: string, versionId: number, id: number): Promise<void> {
  const [existing] = await tx.query(
    `SELECT 1 AS one FROM ${table} WHERE release_version_id = $1 AND ${column} = $2`,
    [versionId, id],
  );
  if (existing) return;
  await tx.execute(`INSERT INTO ${table} (release_version_id, ${column}) VALUES ($1, $2)`, [versionId, id]);
}
