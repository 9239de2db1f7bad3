import { z } from 'zod';
import { CompiledPackageStore } from '../compiled-packages/compiled-package-store.ts';
import type { Db } from '../db/db.ts';
import type { DirectorDeps } from '../feature.ts';
import type { TaskContext, TaskHandler } from '../tasks/task-context.ts';
import { isBlobReferenced } from './blob-references.ts';
import {
  ReleaseInUse,
  ReleaseNotFound,
  ReleaseVersionInUse,
  ReleaseVersionNotFound,
} from './release-errors.ts';
import { ReleaseStore, type JobRecord, type PackageRecord } from './release-store.ts';

export const DELETE_RELEASE = 'delete_release';

export const DeleteReleaseParams = z.object({
  name: z.string(),
  version: z.string().nullable(),
  force: z.boolean(),
});
export type DeleteReleaseParams = z.infer<typeof DeleteReleaseParams>;

type Deps = Pick<DirectorDeps, 'db' | 'blobstore' | 'events'>;

/**
 * `delete_release` (BOSH's jobs/delete_release.rb and its release deleters). With a version:
 * refused while a deployment uses it (`ReleaseVersion '<n>/<v>' is still in use by: …`); its
 * packages and jobs no other version lists are deleted (stages `Deleting packages`, `Deleting
 * jobs`), and the release goes with its last version. Without: refused while any version is
 * used (`Release '<n>' is still in use by: …`), then `Deleting packages`, `Deleting jobs`,
 * `Deleting release versions`. Rows go in one transaction; blobs no row names any more (and
 * compiled packages of fingerprints no package has) are deleted after it. `force` ignores
 * blobstore errors. Result: `/release/<name>`.
 */
export function deleteReleaseTask(deps: Deps): TaskHandler<DeleteReleaseParams> {
  return {
    type: DELETE_RELEASE,
    parseParams: (raw) => DeleteReleaseParams.parse(raw),
    async run(ctx, params) {
      try {
        await deleteRelease(deps, ctx, params);
        await record(deps, ctx, params, null);
        return `/release/${params.name}`;
      } catch (error) {
        await record(deps, ctx, params, (error as Error).message);
        throw error;
      }
    },
  };
}

/** Deletes a release or one version, as the task does (no event recorded). Also used by clean-up. */
export async function deleteRelease(
  deps: Deps,
  ctx: Pick<TaskContext, 'events' | 'debug'>,
  params: DeleteReleaseParams,
): Promise<void> {
  const store = new ReleaseStore(deps.db);
  const release = await store.findRelease(params.name);
  if (!release) throw new ReleaseNotFound(`Release '${params.name}' doesn't exist`);
  const versions = await store.versions(release.id);
  const usages = await store.usages();
  let packages: PackageRecord[];
  let jobs: JobRecord[];
  let dropVersions = versions;
  let dropRelease = true;
  if (params.version !== null) {
    const version = versions.find((v) => v.version === params.version);
    if (!version)
      throw new ReleaseVersionNotFound(`Release version '${params.name}/${params.version}' doesn't exist`);
    const users = usages.get(version.id) ?? [];
    if (users.length > 0) {
      throw new ReleaseVersionInUse(
        `ReleaseVersion '${params.name}/${version.version}' is still in use by: ${users.join(', ')}`,
      );
    }
    const others = versions.filter((v) => v.id !== version.id);
    const keepPackages = new Set(
      (await Promise.all(others.map((v) => store.packagesOf(v.id)))).flat().map((p) => p.id),
    );
    const keepJobs = new Set(
      (await Promise.all(others.map((v) => store.jobsOf(v.id)))).flat().map((j) => j.id),
    );
    dropRelease = others.length === 0;
    packages = dropRelease
      ? await store.packagesOfRelease(release.id)
      : (await store.packagesOf(version.id)).filter((p) => !keepPackages.has(p.id));
    jobs = dropRelease
      ? await store.jobsOfRelease(release.id)
      : (await store.jobsOf(version.id)).filter((j) => !keepJobs.has(j.id));
    dropVersions = [version];
  } else {
    const users = [...new Set(versions.flatMap((v) => usages.get(v.id) ?? []))].sort();
    if (users.length > 0) {
      throw new ReleaseInUse(`Release '${params.name}' is still in use by: ${users.join(', ')}`);
    }
    packages = await store.packagesOfRelease(release.id);
    jobs = await store.jobsOfRelease(release.id);
  }

  const blobs = new Set<string>();
  await deps.db.transaction(async (tx) => {
    const packageStage = ctx.events.stage('Deleting packages', { total: packages.length });
    for (const pkg of packages) {
      await packageStage.task(`${pkg.name}/${pkg.version}`, async () => {
        await tx.execute('DELETE FROM release_version_packages WHERE package_id = $1', [pkg.id]);
        await tx.execute('DELETE FROM packages WHERE id = $1', [pkg.id]);
        if (pkg.blobstoreId !== null) blobs.add(pkg.blobstoreId);
      });
    }
    const jobStage = ctx.events.stage('Deleting jobs', { total: jobs.length });
    for (const job of jobs) {
      await jobStage.task(`${job.name}/${job.version}`, async () => {
        await tx.execute('DELETE FROM release_version_templates WHERE template_id = $1', [job.id]);
        await tx.execute('DELETE FROM templates WHERE id = $1', [job.id]);
        blobs.add(job.blobstoreId);
      });
    }
    const deleteVersion = async (id: number) => {
      await tx.execute('DELETE FROM release_version_packages WHERE release_version_id = $1', [id]);
      await tx.execute('DELETE FROM release_version_templates WHERE release_version_id = $1', [id]);
      await tx.execute('DELETE FROM release_version_usages WHERE release_version_id = $1', [id]);
      await tx.execute('DELETE FROM release_versions WHERE id = $1', [id]);
    };
    if (params.version === null) {
      const versionStage = ctx.events.stage('Deleting release versions', { total: dropVersions.length });
      for (const version of dropVersions) {
        await versionStage.task(`${params.name}/${version.version}`, () => deleteVersion(version.id));
      }
    } else {
      for (const version of dropVersions) await deleteVersion(version.id);
    }
    if (dropRelease) await tx.execute('DELETE FROM releases WHERE id = $1', [release.id]);
    for (const blob of await new CompiledPackageStore(tx).deleteOrphans(tx)) blobs.add(blob);
  });
  await deleteBlobs(deps.db, deps, ctx, blobs, params.force);
}

async function deleteBlobs(
  db: Db,
  deps: Deps,
  ctx: Pick<TaskContext, 'debug'>,
  blobs: ReadonlySet<string>,
  force: boolean,
): Promise<void> {
  for (const id of blobs) {
    if (await isBlobReferenced(db, id)) continue;
    try {
      await deps.blobstore.delete(id);
    } catch (error) {
      if (!force) throw error;
      ctx.debug.write(`could not delete blob ${id} (ignored, force): ${String(error)}\n`);
    }
  }
}

async function record(deps: Deps, ctx: TaskContext, params: DeleteReleaseParams, error: string | null) {
  await deps.events
    .record({
      action: 'delete',
      objectType: 'release',
      objectName: params.name,
      user: ctx.user,
      task: ctx.taskId,
      context: params.version === null ? {} : { version: params.version },
      error,
    })
    .catch(() => undefined);
}
