/**
 * BOSH release versions (semi-semantic: `<release>[-<pre-release>][+<post-release>]`, each
 * segment dot-separated components, e.g. `1.2`, `1.2-rc.1`, `12+dev.3`), compared as BOSH's
 * `ReleaseVersion` compares them: numbers numerically, below text; a pre-release sorts before
 * its release, a post-release after it.
 */
export interface ReleaseVersion {
  readonly release: readonly (number | string)[];
  readonly preRelease: readonly (number | string)[] | null;
  readonly postRelease: readonly (number | string)[] | null;
  readonly text: string;
}

const COMPONENT = /^[0-9A-Za-z_]+$/;

/** Parses a version, or returns null when it is not a semi-semantic version. */
export function parseReleaseVersion(text: string): ReleaseVersion | null {
  const plus = text.indexOf('+');
  const main = plus === -1 ? text : text.slice(0, plus);
  const post = plus === -1 ? null : text.slice(plus + 1);
  const dash = main.indexOf('-');
  const release = dash === -1 ? main : main.slice(0, dash);
  const pre = dash === -1 ? null : main.slice(dash + 1);
  const parts = (segment: string): (number | string)[] | null => {
    const components = segment.split('.');
    if (components.some((c) => !COMPONENT.test(c))) return null;
    return components.map((c) => (/^\d+$/.test(c) ? Number(c) : c));
  };
  const r = parts(release);
  const p = pre === null ? null : parts(pre);
  const q = post === null ? null : parts(post);
  if (r === null || (pre !== null && p === null) || (post !== null && q === null)) return null;
  return { release: r, preRelease: p, postRelease: q, text };
}

function compareSegments(a: readonly (number | string)[], b: readonly (number | string)[]): number {
  const length = Math.max(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const x = a[i] ?? 0;
    const y = b[i] ?? 0;
    if (x === y) continue;
    if (typeof x === 'number' && typeof y === 'number') return x < y ? -1 : 1;
    if (typeof x === 'number') return -1;
    if (typeof y === 'number') return 1;
    return x < y ? -1 : 1;
  }
  return 0;
}

export function compareReleaseVersions(a: ReleaseVersion, b: ReleaseVersion): number {
  const release = compareSegments(a.release, b.release);
  if (release !== 0) return release;
  if (a.preRelease !== b.preRelease) {
    if (a.preRelease === null) return 1;
    if (b.preRelease === null) return -1;
    const pre = compareSegments(a.preRelease, b.preRelease);
    if (pre !== 0) return pre;
  }
  if (a.postRelease === b.postRelease) return 0;
  if (a.postRelease === null) return -1;
  if (b.postRelease === null) return 1;
  return compareSegments(a.postRelease, b.postRelease);
}

/** Sorts version strings oldest first; unparsable ones go first, by text. */
export function sortVersionTexts(texts: readonly string[]): string[] {
  return [...texts].sort((x, y) => {
    const a = parseReleaseVersion(x);
    const b = parseReleaseVersion(y);
    if (a === null || b === null) return a === b ? x.localeCompare(y) : a === null ? -1 : 1;
    return compareReleaseVersions(a, b) || x.localeCompare(y);
  });
}

/**
 * The version a `rebase=true` upload gets (BOSH's `ReleaseVersionList#rebase`): a dev version
 * (`<release>+dev.<n>`) becomes the next dev number after the newest existing version with the
 * same release and pre-release segments; a version without post-release stays as it is.
 */
export function rebaseVersion(version: ReleaseVersion, existing: readonly string[]): string {
  if (version.postRelease === null) return version.text;
  const sameLine = existing
    .map(parseReleaseVersion)
    .filter((v): v is ReleaseVersion => v !== null)
    .filter(
      (v) =>
        compareSegments(v.release, version.release) === 0 &&
        (v.preRelease === null) === (version.preRelease === null) &&
        (v.preRelease === null ||
          version.preRelease === null ||
          compareSegments(v.preRelease, version.preRelease) === 0) &&
        v.postRelease !== null,
    )
    .sort(compareReleaseVersions);
  const base = version.text.slice(0, version.text.indexOf('+'));
  const latest = sameLine.at(-1);
  if (latest?.postRelease === undefined || latest.postRelease === null) return `${base}+dev.1`;
  const post = [...latest.postRelease];
  const lastNumber = post.findLastIndex((c) => typeof c === 'number');
  if (lastNumber === -1) return `${base}+${[...post, 1].join('.')}`;
  post[lastNumber] = (post[lastNumber] as number) + 1;
  return `${base}+${post.join('.')}`;
}
