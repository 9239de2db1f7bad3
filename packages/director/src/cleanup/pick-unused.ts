import { stemcellMajor } from '../compiled-packages/find-compiled-package.ts';
import { sortVersionTexts } from '../releases/release-version.ts';

/*
 * What `clean-up` deletes, decided as BOSH's pickers decide it (jobs/helpers/*_to_delete_picker.rb):
 * pure functions of rows the caller read. Without `--all` the newest `keep` unused versions of
 * each name stay, so a rollback to the previous stemcell or release needs no upload.
 */

/** How many unused versions of each name a clean-up without `--all` keeps. */
export const VERSIONS_KEPT = 2;

export interface ReleaseVersionUse {
  readonly version: string;
  /** Some deployment uses it (`currently_deployed`). */
  readonly deployed: boolean;
}

export interface ReleaseToDelete {
  readonly name: string;
  /** Oldest first. */
  readonly versions: readonly string[];
}

/** Unused versions of each release, oldest first, but for the newest `keep` of them. */
export function pickReleases(
  releases: readonly { readonly name: string; readonly versions: readonly ReleaseVersionUse[] }[],
  keep: number,
): ReleaseToDelete[] {
  const picked: ReleaseToDelete[] = [];
  for (const release of [...releases].sort((a, b) => a.name.localeCompare(b.name))) {
    const unused = sortVersionTexts(release.versions.filter((v) => !v.deployed).map((v) => v.version));
    const versions = unused.slice(0, Math.max(0, unused.length - keep));
    if (versions.length > 0) picked.push({ name: release.name, versions });
  }
  return picked;
}

/** A stemcell or rootfs name/version with whatever holds on to it. */
export interface VersionedArtifact {
  readonly name: string;
  readonly version: string;
  /** Deployments using it. */
  readonly deployments: readonly string[];
  /** Anything else holding it (a reload in progress for a rootfs). */
  readonly heldBy?: readonly string[];
}

/**
 * Unused name/versions (no deployment, nothing holding them), grouped by name, each group
 * without its newest `keep`; by name, then oldest first. Several rows of one name/version (one
 * per CPI) are one artifact: it is unused only when every row is.
 */
export function pickVersioned<T extends VersionedArtifact>(artifacts: readonly T[], keep: number): T[] {
  const byName = new Map<string, Map<string, T[]>>();
  for (const a of artifacts) {
    const versions = byName.get(a.name) ?? new Map<string, T[]>();
    versions.set(a.version, [...(versions.get(a.version) ?? []), a]);
    byName.set(a.name, versions);
  }
  const picked: T[] = [];
  for (const name of [...byName.keys()].sort()) {
    const versions = byName.get(name) ?? new Map<string, T[]>();
    const unused = [...versions].filter(([, rows]) =>
      rows.every((r) => r.deployments.length === 0 && (r.heldBy ?? []).length === 0),
    );
    const ordered = sortVersionTexts(unused.map(([v]) => v));
    for (const version of ordered.slice(0, Math.max(0, ordered.length - keep))) {
      picked.push(...(versions.get(version) ?? []));
    }
  }
  return picked;
}

export interface CompiledPackageRow {
  readonly id: number;
  readonly packageName: string;
  readonly stemcellOs: string;
  readonly stemcellVersion: string;
}

export interface StemcellRow {
  readonly id: number;
  readonly operatingSystem: string;
  readonly version: string;
}

/**
 * Compiled packages no stemcell left after the clean-up could use (same OS, same major version
 * line, as a deploy matches them): BOSH deletes them only with `--all`.
 */
export function pickCompiledPackages<T extends CompiledPackageRow>(
  packages: readonly T[],
  stemcells: readonly StemcellRow[],
  deletedStemcellIds: ReadonlySet<number>,
): T[] {
  const remaining = stemcells.filter((s) => !deletedStemcellIds.has(s.id));
  return packages.filter(
    (p) =>
      !remaining.some(
        (s) =>
          s.operatingSystem === p.stemcellOs && stemcellMajor(s.version) === stemcellMajor(p.stemcellVersion),
      ),
  );
}
