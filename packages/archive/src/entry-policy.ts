import { ArchiveError, ArchiveErrorCode } from './archive-error.ts';
import type { TarEntryType, TarHeader } from './tar-header.ts';

export interface EntryPolicyOptions {
  /** Allow character/block devices and fifos, but only under `dev/`. Default: refused everywhere. */
  readonly allowDevicesUnder?: 'dev';
  /**
   * Absolute symlink targets (`/usr/bin/x`), common in root filesystems, are read as relative
   * to the archive root, as they resolve inside the VM (`'within-root'`, the default; a target
   * climbing above `/` is still an escape), or refused outright (`'refuse'`).
   */
  readonly absoluteSymlinks?: 'within-root' | 'refuse';
}

/** An entry that passed the policy, with its normalized path. */
export interface CheckedEntry {
  /** Relative, `/`-separated, no `.`/empty components, no trailing slash; `''` is the root. */
  readonly path: string;
  readonly type: Exclude<TarEntryType, 'unknown'>;
  /** Hard links: the normalized path of the target. Symlinks: the stored target. */
  readonly linkTarget: string | null;
}

/** What earlier entries established; `checkEntry` uses it for links and write-through checks. */
export interface EntryHistory {
  /** Normalized paths of non-directory entries seen so far (valid hard-link targets). */
  readonly files: ReadonlySet<string>;
  /** Normalized paths of symlink entries seen so far (nothing may be written beneath them). */
  readonly symlinks: ReadonlySet<string>;
}

const DEVICE_TYPES: ReadonlySet<TarEntryType> = new Set(['character-device', 'block-device', 'fifo']);

/**
 * Splits an entry name into components, refusing absolute paths, `..` and NUL bytes.
 * `./a//b/` → `['a','b']`; `.` or `./` → `[]`.
 */
export function entryComponents(name: string): string[] {
  if (name.includes('\0')) {
    throw new ArchiveError(
      ArchiveErrorCode.InvalidPath,
      `entry '${printable(name)}' has a NUL byte in its path`,
      {
        entryPath: name,
      },
    );
  }
  if (name.startsWith('/')) {
    throw new ArchiveError(ArchiveErrorCode.AbsolutePath, `entry '${name}' has an absolute path`, {
      entryPath: name,
    });
  }
  const parts = name.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) {
    throw new ArchiveError(ArchiveErrorCode.ParentTraversal, `entry '${name}' has a '..' component`, {
      entryPath: name,
    });
  }
  return parts;
}

/**
 * Checks one entry against the extraction policy: refuses absolute paths, `..`, symlinks whose
 * target resolves outside the archive root (from the link's own directory), hard links to paths
 * outside the archive or not seen earlier, entries beneath an earlier symlink, device files and
 * fifos (except under `dev/` when allowed) and unknown types. Pass the same `history` for
 * every entry of an archive (see `EntryChecker` to have it kept for you).
 */
export function checkEntry(
  header: TarHeader,
  options: EntryPolicyOptions = {},
  history?: EntryHistory,
): CheckedEntry {
  const parts = entryComponents(header.name);
  const path = parts.join('/');
  const fail = (code: ArchiveErrorCode, why: string) =>
    new ArchiveError(code, `entry '${header.name}' ${why}`, { entryPath: header.name });

  if (header.type === 'unknown')
    throw fail(ArchiveErrorCode.UnsupportedType, 'has an unsupported entry type');
  if (path === '' && header.type !== 'directory')
    throw fail(ArchiveErrorCode.InvalidPath, 'names the archive root');

  if (history) {
    for (let i = 1; i <= parts.length; i++) {
      const prefix = parts.slice(0, i).join('/');
      if (i < parts.length && history.symlinks.has(prefix)) {
        throw fail(ArchiveErrorCode.WriteThroughSymlink, `lies beneath the symlink '${prefix}'`);
      }
    }
  }

  if (DEVICE_TYPES.has(header.type)) {
    const allowed = options.allowDevicesUnder === 'dev' && parts[0] === 'dev' && parts.length > 1;
    if (!allowed) {
      const where = options.allowDevicesUnder === 'dev' ? ' outside dev/' : '';
      throw fail(ArchiveErrorCode.DeviceFile, `is a ${header.type}${where}: device files are not allowed`);
    }
  }

  if (header.type === 'symlink') {
    const target = header.linkname ?? '';
    if (target === '') throw fail(ArchiveErrorCode.InvalidPath, 'is a symlink without a target');
    if (target.includes('\0')) throw fail(ArchiveErrorCode.InvalidPath, 'has a NUL byte in its link target');
    const absolute = target.startsWith('/');
    if (absolute && options.absoluteSymlinks === 'refuse') {
      throw fail(ArchiveErrorCode.LinkEscape, `is a symlink to the absolute path '${target}'`);
    }
    const base = absolute ? [] : parts.slice(0, -1);
    if (!staysWithin(base, target)) {
      throw fail(ArchiveErrorCode.LinkEscape, `is a symlink to '${target}', outside the archive`);
    }
    return { path, type: header.type, linkTarget: target };
  }

  if (header.type === 'link') {
    const target = header.linkname ?? '';
    let targetParts: string[];
    try {
      targetParts = entryComponents(target);
    } catch {
      throw fail(ArchiveErrorCode.LinkEscape, `is a hard link to '${target}', outside the archive`);
    }
    const targetPath = targetParts.join('/');
    if (targetPath === '' || targetPath === path) {
      throw fail(ArchiveErrorCode.InvalidPath, `is a hard link to '${target}'`);
    }
    if (history && !history.files.has(targetPath)) {
      throw fail(
        ArchiveErrorCode.LinkTargetMissing,
        `is a hard link to '${target}', which is not an earlier file entry`,
      );
    }
    return { path, type: header.type, linkTarget: targetPath };
  }

  return { path, type: header.type, linkTarget: null };
}

/** Resolves `target` lexically from the directory `base`; false if it climbs above the root. */
function staysWithin(base: readonly string[], target: string): boolean {
  const stack = [...base];
  for (const part of target.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (stack.length === 0) return false;
      stack.pop();
    } else {
      stack.push(part);
    }
  }
  return true;
}

function printable(name: string): string {
  return name.replaceAll('\0', '\\0');
}

/** `checkEntry` over a whole archive, remembering the entries it has passed. */
export class EntryChecker implements EntryHistory {
  readonly files = new Set<string>();
  readonly symlinks = new Set<string>();
  private readonly options: EntryPolicyOptions;

  constructor(options: EntryPolicyOptions = {}) {
    this.options = options;
  }

  check(header: TarHeader): CheckedEntry {
    const checked = checkEntry(header, this.options, this);
    // A later entry may replace an earlier one of the same name: keep the latest kind.
    this.files.delete(checked.path);
    this.symlinks.delete(checked.path);
    if (checked.type === 'symlink') this.symlinks.add(checked.path);
    if (checked.type !== 'directory') this.files.add(checked.path);
    return checked;
  }
}
