import { lstat, opendir, readlink } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { join } from 'node:path';
import { comparePaths, type RootEntry } from './root-entry.ts';

/** Raised for a root tree the builder will not archive (a socket, a device outside /dev, …). */
export class RootTreeError extends Error {
  readonly code = 'root_tree_invalid';
}

function deviceNumbers(rdev: number): { major: number; minor: number } {
  // glibc's gnu_dev_major / gnu_dev_minor, in arithmetic that stays exact above 2^32.
  const high = Math.floor(rdev / 2 ** 32);
  const low = rdev % 2 ** 32;
  return {
    major: ((low >>> 8) & 0xfff) | ((high & ~0xfff) >>> 0),
    minor: (low & 0xff) | ((low >>> 12) & ~0xff),
  };
}

function entryFor(
  path: string,
  stats: Stats,
  hostPath: string,
  target: string | undefined,
): RootEntry | undefined {
  const base = { path, mode: stats.mode & 0o7777, uid: stats.uid, gid: stats.gid };
  if (stats.isDirectory()) return { ...base, kind: 'directory' };
  if (stats.isFile()) return { ...base, kind: 'file', size: stats.size, source: { hostFile: hostPath } };
  if (stats.isSymbolicLink()) return { ...base, kind: 'symlink', target: target ?? '' };
  if (stats.isFIFO()) return { ...base, kind: 'fifo' };
  if (stats.isCharacterDevice() || stats.isBlockDevice()) {
    if (path !== 'dev' && !path.startsWith('dev/')) {
      throw new RootTreeError(`device file '/${path}' is outside /dev (the director refuses it)`);
    }
    const kind = stats.isCharacterDevice() ? 'char-device' : 'block-device';
    return { ...base, kind, ...deviceNumbers(stats.rdev) };
  }
  return undefined; // sockets are runtime state, never part of an image
}

/**
 * Reads a directory tree into root entries (metadata only; file contents are streamed later), in
 * archive order. A regular file met again through another hard link becomes a `hardlink` entry
 * pointing at the first path in archive order, so hard links survive the archive.
 */
export async function scanTree(root: string, signal?: AbortSignal): Promise<RootEntry[]> {
  const rootStats = await lstat(root);
  if (!rootStats.isDirectory()) throw new RootTreeError(`root tree '${root}' is not a directory`);
  const found: { entry: RootEntry; stats: Stats }[] = [];
  found.push({
    entry: {
      kind: 'directory',
      path: '',
      mode: rootStats.mode & 0o7777,
      uid: rootStats.uid,
      gid: rootStats.gid,
    },
    stats: rootStats,
  });
  const pending: string[] = [''];
  while (pending.length > 0) {
    signal?.throwIfAborted();
    const dir = pending.pop() ?? '';
    const handle = await opendir(join(root, dir));
    for await (const child of handle) {
      const path = dir === '' ? child.name : `${dir}/${child.name}`;
      const hostPath = join(root, path);
      const stats = await lstat(hostPath);
      const target = stats.isSymbolicLink() ? await readlink(hostPath) : undefined;
      const entry = entryFor(path, stats, hostPath, target);
      if (entry === undefined) continue;
      found.push({ entry, stats });
      if (entry.kind === 'directory') pending.push(path);
    }
  }
  found.sort((a, b) => comparePaths(a.entry.path, b.entry.path));
  const firstPathOfInode = new Map<string, string>();
  return found.map(({ entry, stats }) => {
    if (entry.kind !== 'file' || stats.nlink < 2) return entry;
    const inode = `${stats.dev}:${stats.ino}`;
    const first = firstPathOfInode.get(inode);
    if (first === undefined) {
      firstPathOfInode.set(inode, entry.path);
      return entry;
    }
    return {
      kind: 'hardlink',
      path: entry.path,
      target: first,
      mode: entry.mode,
      uid: entry.uid,
      gid: entry.gid,
    };
  });
}
