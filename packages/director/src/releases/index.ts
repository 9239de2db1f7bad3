import { join } from 'node:path';
import { releasesMigration } from '../db/migrations/004-releases.ts';
import type { DirectorDeps, Feature } from '../feature.ts';
import { ScratchSpace } from '../stemcells/scratch-space.ts';
import { deleteReleaseRoute } from './delete-release-route.ts';
import { deleteReleaseTask } from './delete-release-task.ts';
import { listReleasesRoute } from './list-releases-route.ts';
import { PendingBlobs } from './pending-blobs.ts';
import { compiledPackageMatchesRoute, packageMatchesRoute } from './package-matches-route.ts';
import { showReleaseRoute } from './show-release-route.ts';
import { updateReleaseTask } from './update-release-task.ts';
import { uploadReleaseRoute } from './upload-release-route.ts';

export { findReleaseVersion, recordReleaseUsage, clearReleaseUsages } from './release-lookup.ts';
export type { ReleaseVersionContents } from './release-lookup.ts';
export type { JobRecord, PackageRecord, ReleaseVersionRecord } from './release-store.ts';
export { compileOrder } from './package-dependencies.ts';

/** Blobs stored by uploads in flight, for cleanup after a crash (outside tmpDir). */
export function releasePendingBlobs(deps: Pick<DirectorDeps, 'stateDir'>): PendingBlobs {
  return new PendingBlobs(join(deps.stateDir, 'release-pending'));
}

/** Where release uploads in flight keep their files. */
export function releaseScratch(deps: Pick<DirectorDeps, 'tmpDir'>): ScratchSpace {
  return new ScratchSpace(join(deps.tmpDir, 'release-uploads'));
}

/**
 * Releases (reference §1.6): upload (raw or URL), list, show, delete, and the package match
 * queries the CLI makes before uploading. Its migration also creates the compiled package store
 * and `release_version_usages` (written by the deploy work). Lists after `rootfsFeature`: blob
 * reference counts read the `rootfs` table.
 */
export const releasesFeature: Feature = {
  name: 'releases',
  migrations: [releasesMigration],
  routes(deps) {
    return [
      uploadReleaseRoute({ scratch: releaseScratch(deps), tasks: deps.tasks }),
      listReleasesRoute(deps.db),
      showReleaseRoute(deps.db),
      deleteReleaseRoute(deps.db, deps.tasks),
      packageMatchesRoute(deps.db),
      compiledPackageMatchesRoute(deps.db),
    ];
  },
  taskHandlers(deps) {
    return [
      updateReleaseTask(deps, releaseScratch(deps), releasePendingBlobs(deps)),
      deleteReleaseTask(deps),
    ];
  },
  async startup(deps) {
    await releaseScratch(deps).clear();
    // Interrupted uploads were recovered before startup: what is left here is stale.
    await releasePendingBlobs(deps).settleAll(deps.db, deps.blobstore);
  },
};
