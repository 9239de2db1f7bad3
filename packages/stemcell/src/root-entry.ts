/**
 * One entry of a stemcell's root tree, described without its content: the content of a regular
 * file is either a host file (read when the archive is written, streamed) or a small text.
 * Paths are relative to the root, '/'-separated, without a leading './' ('' is the root itself).
 */
interface EntryBase {
  readonly path: string;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
}

export type FileSource = { readonly hostFile: string } | { readonly text: string };

export type RootEntry =
  | (EntryBase & { readonly kind: 'directory' })
  | (EntryBase & { readonly kind: 'file'; readonly size: number; readonly source: FileSource })
  | (EntryBase & { readonly kind: 'symlink'; readonly target: string })
  | (EntryBase & { readonly kind: 'hardlink'; readonly target: string })
  | (EntryBase & {
      readonly kind: 'char-device' | 'block-device';
      readonly major: number;
      readonly minor: number;
    })
  | (EntryBase & { readonly kind: 'fifo' });

export function textFile(
  path: string,
  text: string,
  options: { mode?: number; uid?: number; gid?: number } = {},
): RootEntry {
  return {
    kind: 'file',
    path,
    mode: options.mode ?? 0o644,
    uid: options.uid ?? 0,
    gid: options.gid ?? 0,
    size: Buffer.byteLength(text),
    source: { text },
  };
}

export function directory(
  path: string,
  options: { mode?: number; uid?: number; gid?: number } = {},
): RootEntry {
  return {
    kind: 'directory',
    path,
    mode: options.mode ?? 0o755,
    uid: options.uid ?? 0,
    gid: options.gid ?? 0,
  };
}

export function symlink(path: string, target: string): RootEntry {
  return { kind: 'symlink', path, target, mode: 0o777, uid: 0, gid: 0 };
}

/** Byte-wise order of path components: a directory comes right before its own children. */
export function comparePaths(a: string, b: string): number {
  const left = a === '' ? [] : a.split('/');
  const right = b === '' ? [] : b.split('/');
  const n = Math.min(left.length, right.length);
  for (let i = 0; i < n; i++) {
    const order = Buffer.compare(Buffer.from(left[i] ?? ''), Buffer.from(right[i] ?? ''));
    if (order !== 0) return order;
  }
  return left.length - right.length;
}

export function normalizeRootPath(path: string): string {
  const parts = path.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw new Error(`path '${path}' leaves the root`);
  return parts.join('/');
}

function parentOf(path: string): string | undefined {
  if (path === '') return undefined;
  const slash = path.lastIndexOf('/');
  return slash === -1 ? '' : path.slice(0, slash);
}

/**
 * Where `path` really lands in the tree: a parent that is a symlink (a merged-/usr root's
 * `sbin -> usr/sbin`) is followed, inside the root, as the VM will follow it.
 */
function resolveParents(path: string, byPath: ReadonlyMap<string, RootEntry>): string {
  let parts = path.split('/');
  for (let hops = 0; hops < 40; hops++) {
    let redirected = false;
    for (let i = 1; i < parts.length; i++) {
      const prefix = parts.slice(0, i).join('/');
      const entry = byPath.get(prefix);
      if (entry?.kind !== 'symlink') continue;
      const base = entry.target.startsWith('/') ? '' : parts.slice(0, i - 1).join('/');
      const resolved: string[] = [];
      for (const part of `${base}/${entry.target}`.split('/')) {
        if (part === '' || part === '.') continue;
        if (part === '..') resolved.pop();
        else resolved.push(part);
      }
      parts = [...resolved, ...parts.slice(i)];
      redirected = true;
      break;
    }
    if (!redirected) return parts.join('/');
  }
  throw new Error(`'${path}' goes through too many symlinks`);
}

/**
 * Merges layers of entries (later layers replace earlier entries at the same path; parents that
 * are symlinks are followed), adds the missing parent directories (0755, root), and returns the
 * entries in archive order.
 */
export function mergeLayers(...layers: readonly (readonly RootEntry[])[]): RootEntry[] {
  const byPath = new Map<string, RootEntry>();
  for (const layer of layers) {
    for (const entry of layer) {
      const path = resolveParents(normalizeRootPath(entry.path), byPath);
      const previous = byPath.get(path);
      // A layer's file replacing a directory would orphan the directory's children: refuse it.
      if (previous?.kind === 'directory' && entry.kind !== 'directory') {
        throw new Error(`'${path}' is a directory in one layer and a ${entry.kind} in another`);
      }
      byPath.set(path, { ...entry, path });
    }
  }
  for (const path of [...byPath.keys()]) {
    for (let parent = parentOf(path); parent !== undefined; parent = parentOf(parent)) {
      const existing = byPath.get(parent);
      if (existing === undefined) byPath.set(parent, directory(parent));
      else if (existing.kind !== 'directory') {
        throw new Error(`'${parent}' must be a directory (it holds '${path}'), not a ${existing.kind}`);
      }
    }
  }
  if (!byPath.has('')) byPath.set('', directory(''));
  return [...byPath.values()].sort((a, b) => comparePaths(a.path, b.path));
}
