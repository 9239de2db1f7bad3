import type { ReleaseVersionDetails } from '@refit/protocol';
import type { Route } from '../api/route.ts';
import { CompiledPackageStore } from '../compiled-packages/compiled-package-store.ts';
import { dependencyKey } from '../compiled-packages/dependency-key.ts';
import type { Db } from '../db/db.ts';
import { ReleaseNotFound, ReleaseVersionNotFound } from './release-errors.ts';
import { ReleaseStore } from './release-store.ts';
import { sortVersionTexts } from './release-version.ts';

/**
 * `GET /releases/<name>?version=<v>`: the version's jobs and packages (fingerprints, blobs,
 * digests) and each package's compiled packages for its dependency key, as BOSH's
 * `inspect_release`. Without `version`: the release's packages, jobs and versions (BOSH's
 * older answer). Unknown release or version: 404 (30005 / 30006).
 */
export function showReleaseRoute(db: Db): Route {
  return {
    method: 'GET',
    path: '/releases/:name',
    async handle(request) {
      const name = (request.params.name ?? '').trim();
      const store = new ReleaseStore(db);
      const release = await store.findRelease(name);
      if (!release) throw new ReleaseNotFound(`Release '${name}' doesn't exist`);
      const wanted = request.query.get('version');
      if (wanted === null) {
        const [packages, jobs, versions] = await Promise.all([
          store.packagesOfRelease(release.id),
          store.jobsOfRelease(release.id),
          store.versions(release.id),
        ]);
        return {
          kind: 'json',
          body: {
            packages: packages.map((p) => ({
              name: p.name,
              sha1: p.sha1,
              version: p.version,
              dependencies: p.dependencies,
            })),
            jobs: jobs.map((j) => ({
              name: j.name,
              sha1: j.sha1,
              version: j.version,
              packages: j.packageNames,
            })),
            versions: sortVersionTexts(versions.map((v) => v.version)),
          },
        };
      }
      const version = await store.findVersion(name, wanted);
      if (!version) throw new ReleaseVersionNotFound(`Release version '${name}/${wanted}' doesn't exist`);
      const [packages, jobs] = await Promise.all([store.packagesOf(version.id), store.jobsOf(version.id)]);
      const compiled = await new CompiledPackageStore(db).byFingerprints(packages.map((p) => p.fingerprint));
      const body: ReleaseVersionDetails = {
        jobs: jobs.map((j) => ({
          name: j.name,
          blobstore_id: j.blobstoreId,
          sha1: j.sha1,
          fingerprint: j.fingerprint,
          consumes: j.spec.consumes,
          provides: j.spec.provides,
        })),
        packages: packages.map((p) => {
          const key = dependencyKey(p.name, packages);
          return {
            name: p.name,
            blobstore_id: p.blobstoreId,
            sha1: p.sha1,
            fingerprint: p.fingerprint,
            compiled_packages: compiled
              .filter((c) => c.fingerprint === p.fingerprint && c.dependencyKey === key)
              .map((c) => ({
                stemcell: `${c.stemcellOs}/${c.stemcellVersion}`,
                sha1: c.sha1,
                blobstore_id: c.blobstoreId,
              })),
          };
        }),
      };
      return { kind: 'json', body };
    },
  };
}
