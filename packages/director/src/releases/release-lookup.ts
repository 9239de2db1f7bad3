import type { Db } from '../db/db.ts';
import { ReleaseNotFound, ReleaseVersionNotFound } from './release-errors.ts';
import {
  ReleaseStore,
  type JobRecord,
  type PackageRecord,
  type ReleaseVersionRecord,
} from './release-store.ts';
import { sortVersionTexts } from './release-version.ts';

/** A release version with everything a deploy needs: its jobs (with job.MF) and packages. */
export interface ReleaseVersionContents {
  readonly release: ReleaseVersionRecord;
  readonly jobs: readonly JobRecord[];
  readonly packages: readonly PackageRecord[];
}

/**
 * The release version a deployment names (`version: latest` is the newest uploaded). Throws
 * ReleaseNotFound (30005) / ReleaseVersionNotFound (30006) with BOSH's messages.
 */
export async function findReleaseVersion(
  db: Db,
  name: string,
  version: string,
): Promise<ReleaseVersionContents> {
  const store = new ReleaseStore(db);
  const release = await store.findRelease(name);
  if (!release) throw new ReleaseNotFound(`Release '${name}' doesn't exist`);
  let wanted = version;
  if (version === 'latest') {
    const versions = sortVersionTexts((await store.versions(release.id)).map((v) => v.version));
    const newest = versions.at(-1);
    if (newest === undefined)
      throw new ReleaseVersionNotFound(`Release version '${name}/${version}' doesn't exist`);
    wanted = newest;
  }
  const found = await store.findVersion(name, wanted);
  if (!found) throw new ReleaseVersionNotFound(`Release version '${name}/${version}' doesn't exist`);
  const [jobs, packages] = await Promise.all([store.jobsOf(found.id), store.packagesOf(found.id)]);
  return { release: found, jobs, packages };
}

/** Records that `deployment` uses a release version (`currently_deployed`, delete refusal). */
export async function recordReleaseUsage(
  db: Db,
  releaseVersionId: number,
  deployment: string,
): Promise<void> {
  await db.transaction(async (tx) => {
    const [row] = await tx.query(
      'SELECT 1 AS one FROM release_version_usages WHERE release_version_id = $1 AND deployment = $2',
      [releaseVersionId, deployment],
    );
    if (!row) {
      await tx.execute(
        'INSERT INTO release_version_usages (release_version_id, deployment) VALUES ($1, $2)',
        [releaseVersionId, deployment],
      );
    }
  });
}

/** Removes every usage of `deployment` except the release versions in `keep`. */
export async function clearReleaseUsages(
  db: Db,
  deployment: string,
  keep: readonly number[] = [],
): Promise<void> {
  const rows = await db.query<{ release_version_id: number }>(
    'SELECT release_version_id FROM release_version_usages WHERE deployment = $1',
    [deployment],
  );
  for (const row of rows) {
    if (keep.includes(Number(row.release_version_id))) continue;
    await db.execute('DELETE FROM release_version_usages WHERE release_version_id = $1 AND deployment = $2', [
      row.release_version_id,
      deployment,
    ]);
  }
}
