export type DiffLine = [line: string, change: 'added' | 'removed' | null];

/** Past this many LCS cells the diff gives up on alignment: all old lines removed, all new added. */
const MAX_CELLS = 4_000_000;

/**
 * A line diff in BOSH's answer shape (`[["azs:", null], ["- name: z2", "added"]]`): unchanged
 * lines `null`, removed before added at each change, from a longest common subsequence.
 */
export function lineDiff(before: readonly string[], after: readonly string[]): DiffLine[] {
  let prefix = 0;
  while (prefix < before.length && prefix < after.length && before[prefix] === after[prefix]) prefix += 1;
  let suffix = 0;
  while (
    suffix < before.length - prefix &&
    suffix < after.length - prefix &&
    before[before.length - 1 - suffix] === after[after.length - 1 - suffix]
  ) {
    suffix += 1;
  }
  const a = before.slice(prefix, before.length - suffix);
  const b = after.slice(prefix, after.length - suffix);
  const out: DiffLine[] = before.slice(0, prefix).map((line) => [line, null]);
  out.push(...middle(a, b));
  out.push(...before.slice(before.length - suffix).map((line): DiffLine => [line, null]));
  return out;
}

function middle(a: readonly string[], b: readonly string[]): DiffLine[] {
  const removedAll = a.map((line): DiffLine => [line, 'removed']);
  const addedAll = b.map((line): DiffLine => [line, 'added']);
  if (a.length === 0 || b.length === 0 || a.length * b.length > MAX_CELLS)
    return [...removedAll, ...addedAll];
  const width = b.length + 1;
  // lcs[i][j] = LCS length of a[i..] and b[j..]
  const lcs = new Uint32Array((a.length + 1) * width);
  for (let i = a.length - 1; i >= 0; i -= 1) {
    for (let j = b.length - 1; j >= 0; j -= 1) {
      lcs[i * width + j] =
        a[i] === b[j]
          ? (lcs[(i + 1) * width + j + 1] ?? 0) + 1
          : Math.max(lcs[(i + 1) * width + j] ?? 0, lcs[i * width + j + 1] ?? 0);
    }
  }
  const out: DiffLine[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    if (a[i] === b[j]) {
      out.push([a[i] ?? '', null]);
      i += 1;
      j += 1;
    } else if ((lcs[(i + 1) * width + j] ?? 0) >= (lcs[i * width + j + 1] ?? 0)) {
      out.push([a[i] ?? '', 'removed']);
      i += 1;
    } else {
      out.push([b[j] ?? '', 'added']);
      j += 1;
    }
  }
  for (; i < a.length; i += 1) out.push([a[i] ?? '', 'removed']);
  for (; j < b.length; j += 1) out.push([b[j] ?? '', 'added']);
  return out;
}
