import { compareReleaseVersions, parseReleaseVersion } from '../releases/release-version.ts';

/** What identifies the compiled form of a package: BOSH's key, with the fingerprint for the package. */
export interface CompiledPackageKey {
  readonly fingerprint: string;
  /** BOSH's dependency key (see `dependencyKey`). */
  readonly dependencyKey: string;
  readonly stemcellOs: string;
  readonly stemcellVersion: string;
}

export interface CompiledPackageRecord extends CompiledPackageKey {
  readonly id: number;
  readonly packageName: string;
  readonly build: number;
  readonly sha1: string;
  readonly blobstoreId: string;
}

/** The major version line of a stemcell version: `621.74` → `621`, `1.500` → `1`. */
export function stemcellMajor(version: string): string {
  return version.split('.')[0] ?? version;
}

function compareStemcellVersions(a: string, b: string): number {
  const x = parseReleaseVersion(a);
  const y = parseReleaseVersion(b);
  if (x === null || y === null) return a.localeCompare(b, 'en', { numeric: true });
  return compareReleaseVersions(x, y);
}

/**
 * The compiled package a deploy can use for `want`, found as BOSH finds it: the same package
 * fingerprint and dependency key, compiled on the exact stemcell OS and version; failing
 * that, the newest one compiled on the same OS and the same major version line (so moving a
 * deployment from stemcell 1.1 to 1.2 recompiles nothing, from 1.x to 2.x recompiles
 * everything). Null when nothing fits: the package must be compiled.
 */
export function findCompiledPackage(
  candidates: readonly CompiledPackageRecord[],
  want: CompiledPackageKey,
): CompiledPackageRecord | null {
  const fitting = candidates.filter(
    (c) =>
      c.fingerprint === want.fingerprint &&
      c.dependencyKey === want.dependencyKey &&
      c.stemcellOs === want.stemcellOs,
  );
  const exact = fitting.find((c) => c.stemcellVersion === want.stemcellVersion);
  if (exact) return exact;
  const major = stemcellMajor(want.stemcellVersion);
  const sameLine = fitting
    .filter((c) => stemcellMajor(c.stemcellVersion) === major)
    .sort((a, b) => compareStemcellVersions(a.stemcellVersion, b.stemcellVersion) || a.build - b.build);
  return sameLine.at(-1) ?? null;
}
