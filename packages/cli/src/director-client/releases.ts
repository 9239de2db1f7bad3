import { z } from 'zod';
import { PackageMatchesAsRead, ReleaseAsRead } from '@refit/protocol';
import { query, type DirectorClient } from './director-client.ts';
import type { RequestBody } from './https-transport.ts';

/** One release version as `releases` lists it. */
export interface ReleaseVersion {
  readonly name: string;
  readonly version: string;
  readonly commitHash: string;
  readonly uncommittedChanges: boolean;
  readonly deployed: boolean;
  readonly jobNames: readonly string[];
}

/** `GET /releases`, flattened to one entry per version. */
export async function listReleases(client: DirectorClient, signal: AbortSignal): Promise<ReleaseVersion[]> {
  const items = await client.json('/releases', z.array(ReleaseAsRead), signal);
  return items.flatMap((release) =>
    (release.release_versions ?? []).map((v) => ({
      name: release.name,
      version: v.version,
      commitHash: v.commit_hash ?? '',
      uncommittedChanges: v.uncommitted_changes === true,
      deployed: v.currently_deployed === true,
      jobNames: v.job_names ?? [],
    })),
  );
}

/**
 * `POST /packages/matches` (`/packages/matches_compiled` for a compiled release) with the
 * release's `release.MF` as YAML: the package fingerprints the director already has. As the stock
 * CLI, any failure means "none" (older directors lack the endpoint).
 */
export async function matchPackages(
  client: DirectorClient,
  releaseManifest: string,
  compiled: boolean,
  signal: AbortSignal,
): Promise<string[]> {
  const path = compiled ? '/packages/matches_compiled' : '/packages/matches';
  try {
    return await client.json(path, PackageMatchesAsRead, signal, {
      method: 'POST',
      body: { kind: 'bytes', contentType: 'text/yaml', data: releaseManifest },
    });
  } catch (error) {
    if (signal.aborted) throw error;
    return [];
  }
}

/** `POST /releases[?fix=true][&rebase=true]` with a tarball or `{location, sha1}`: the task id. */
export function uploadRelease(
  client: DirectorClient,
  body: RequestBody,
  options: { readonly fix: boolean; readonly rebase: boolean },
  signal: AbortSignal,
): Promise<number> {
  const params = query({
    fix: options.fix ? 'true' : undefined,
    rebase: options.rebase ? 'true' : undefined,
  });
  return client.startTask('POST', `/releases${params}`, signal, body);
}

/** `DELETE /releases/<name>[?force=true][&version=<v>]`: the task id. */
export function deleteRelease(
  client: DirectorClient,
  release: { readonly name: string; readonly version: string | undefined },
  force: boolean,
  signal: AbortSignal,
): Promise<number> {
  const params = query({ force: force ? 'true' : undefined, version: release.version });
  return client.startTask('DELETE', `/releases/${encodeURIComponent(release.name)}${params}`, signal);
}
