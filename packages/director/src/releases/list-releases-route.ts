import type { ReleaseListItem } from '@refit/protocol';
import type { Route } from '../api/route.ts';
import type { Db } from '../db/db.ts';
import { ReleaseStore } from './release-store.ts';
import { sortVersionTexts } from './release-version.ts';

/**
 * `GET /releases`: by name, each with its versions oldest first (BOSH's version order), their
 * commit hash, job names and `currently_deployed` (a row in `release_version_usages`).
 */
export function listReleasesRoute(db: Db): Route {
  return {
    method: 'GET',
    path: '/releases',
    async handle() {
      const store = new ReleaseStore(db);
      const [releases, versions, usages, jobNames] = await Promise.all([
        store.releases(),
        store.versions(),
        store.usages(),
        store.jobNames(),
      ]);
      const body: ReleaseListItem[] = releases.map((release) => {
        const mine = versions.filter((v) => v.releaseId === release.id);
        const byText = new Map(mine.map((v) => [v.version, v]));
        return {
          name: release.name,
          release_versions: sortVersionTexts(mine.map((v) => v.version)).map((text) => {
            const v = byText.get(text);
            return {
              version: text,
              commit_hash: v?.commitHash ?? null,
              uncommitted_changes: v?.uncommittedChanges ?? false,
              currently_deployed: v !== undefined && (usages.get(v.id) ?? []).length > 0,
              job_names: v === undefined ? [] : (jobNames.get(v.id) ?? []),
            };
          }),
        };
      });
      return { kind: 'json', body };
    },
  };
}
