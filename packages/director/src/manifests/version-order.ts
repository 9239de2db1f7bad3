/**
 * Orders BOSH-style versions (`1.2`, `1.10`, `3586.25`, `0+dev.3`): dot/dash/plus-separated
 * pieces, numeric pieces compared as numbers, others as text; a longer version wins a tie.
 */
export function compareVersions(a: string, b: string): number {
  const pa = a.split(/[.\-+]/);
  const pb = b.split(/[.\-+]/);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i];
    const y = pb[i];
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    const nx = /^\d+$/.test(x) ? Number(x) : null;
    const ny = /^\d+$/.test(y) ? Number(y) : null;
    if (nx !== null && ny !== null) {
      if (nx !== ny) return nx < ny ? -1 : 1;
    } else if (nx !== null) return 1;
    else if (ny !== null) return -1;
    else if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

export function latestOf(versions: readonly string[]): string | null {
  let best: string | null = null;
  for (const v of versions) if (best === null || compareVersions(v, best) > 0) best = v;
  return best;
}
