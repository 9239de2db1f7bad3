/**
 * Order of BOSH stemcell versions, shared by the director (planner: a reload never goes down)
 * and the agent (update_rootfs refuses an older root). BOSH parses stemcell versions as
 * "semi-semantic" versions after turning `_` into `.` (`621.5`, `1.2`, `3586.100`, `1471_2`):
 *
 *   release[-pre_release][+post_release], each a `.`-separated list of components,
 *   a component being all digits (compared as a number) or other ASCII (compared as text).
 *
 * Components compare left to right; a longer list is greater only when its extra components
 * are not all zero (`1.2` = `1.2.0` < `1.2.1`). A pre-release sorts before its release
 * (`1.2-rc1` < `1.2`); a post-release after it (`1.2` < `1.2+dev.1`). A number and a text in
 * the same position cannot be ordered (BOSH raises there): `compareStemcellVersions` answers
 * null, as it does for a string that is not a version. Pure, no I/O.
 */

/** One component: digits without leading zeros (a number of any size), or ASCII text. */
type Component = { readonly n: string } | { readonly s: string };

export interface StemcellVersion {
  readonly release: readonly Component[];
  readonly preRelease: readonly Component[] | null;
  readonly postRelease: readonly Component[] | null;
}

const VERSION = /^(?<release>[^-+]+)(?:-(?<pre>[^-+]+))?(?:\+(?<post>[^-+]+))?$/;

function parseSegment(text: string): Component[] | null {
  const parts = text.split('.');
  const out: Component[] = [];
  for (const part of parts) {
    if (part === '') return null;
    if (/^\d+$/.test(part)) out.push({ n: part.replace(/^0+(?=\d)/, '') });
    // eslint-disable-next-line no-control-regex -- ASCII only, as BOSH requires
    else if (/^[\x00-\x7f]+$/.test(part)) out.push({ s: part });
    else return null;
  }
  return out;
}

/** Parses a stemcell version as BOSH does (`_` read as `.`); null when it is not one. */
export function parseStemcellVersion(version: string): StemcellVersion | null {
  const m = VERSION.exec(version.replaceAll('_', '.'));
  if (m?.groups?.release === undefined) return null;
  const release = parseSegment(m.groups.release);
  const preRelease = m.groups.pre === undefined ? null : parseSegment(m.groups.pre);
  const postRelease = m.groups.post === undefined ? null : parseSegment(m.groups.post);
  if (release === null) return null;
  if (m.groups.pre !== undefined && preRelease === null) return null;
  if (m.groups.post !== undefined && postRelease === null) return null;
  return { release, preRelease, postRelease };
}

type Order = -1 | 0 | 1;

function compareComponent(a: Component, b: Component): Order | null {
  if ('n' in a && 'n' in b) {
    if (a.n.length !== b.n.length) return a.n.length < b.n.length ? -1 : 1;
    return a.n === b.n ? 0 : a.n < b.n ? -1 : 1;
  }
  if ('s' in a && 's' in b) return a.s === b.s ? 0 : a.s < b.s ? -1 : 1;
  return null;
}

const isZero = (c: Component): boolean => 'n' in c && c.n === '0';

function compareSegment(a: readonly Component[], b: readonly Component[]): Order | null {
  const common = Math.min(a.length, b.length);
  for (let i = 0; i < common; i++) {
    const order = compareComponent(a[i]!, b[i]!);
    if (order !== 0) return order;
  }
  // Extra components count only when not zero: 1.2 = 1.2.0.
  if (a.slice(common).some((c) => !isZero(c))) return 1;
  if (b.slice(common).some((c) => !isZero(c))) return -1;
  return 0;
}

/**
 * -1 when `a` is older than `b`, 0 when they are the same version, 1 when `a` is newer; null
 * when either is not a version or the two cannot be ordered (`1.2` against `1.x`).
 */
export function compareStemcellVersions(a: string, b: string): Order | null {
  const va = parseStemcellVersion(a);
  const vb = parseStemcellVersion(b);
  if (va === null || vb === null) return null;
  const release = compareSegment(va.release, vb.release);
  if (release !== 0) return release;
  if (va.preRelease !== null || vb.preRelease !== null) {
    // A pre-release comes before its release.
    if (va.preRelease === null) return 1;
    if (vb.preRelease === null) return -1;
    const pre = compareSegment(va.preRelease, vb.preRelease);
    if (pre !== 0) return pre;
  }
  if (va.postRelease !== null || vb.postRelease !== null) {
    // A post-release comes after its release.
    if (va.postRelease === null) return -1;
    if (vb.postRelease === null) return 1;
    return compareSegment(va.postRelease, vb.postRelease);
  }
  return 0;
}

/**
 * Where a move from the version running (`from`) to `to` goes: `up`, `same`, `down`, or
 * `unordered` when the two cannot be ordered. A reload only moves `up` or stays the `same`
 * unless a downgrade is explicitly allowed; `unordered` is treated like `down`.
 */
export type StemcellVersionMove = 'up' | 'same' | 'down' | 'unordered';

export function stemcellVersionMove(from: string, to: string): StemcellVersionMove {
  const order = compareStemcellVersions(to, from);
  return order === null ? 'unordered' : order > 0 ? 'up' : order === 0 ? 'same' : 'down';
}
