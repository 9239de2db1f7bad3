/**
 * Orders BOSH versions the way go-semi-semantic roughly does: dot/dash separated segments,
 * numbers numerically, numbers before words, a shorter prefix first (`1.2` < `1.2.1`).
 */
export function compareVersions(a: string, b: string): number {
  const left = a.split(/[.\-+_]/);
  const right = b.split(/[.\-+_]/);
  for (let i = 0; i < Math.max(left.length, right.length); i += 1) {
    const x = left[i];
    const y = right[i];
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    const xn = /^\d+$/.test(x);
    const yn = /^\d+$/.test(y);
    if (xn && yn) {
      const diff = Number(x) - Number(y);
      if (diff !== 0) return Math.sign(diff);
    } else if (xn !== yn) {
      return xn ? -1 : 1;
    } else if (x !== y) {
      return x < y ? -1 : 1;
    }
  }
  return 0;
}
