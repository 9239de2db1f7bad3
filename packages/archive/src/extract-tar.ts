import { execFile } from 'node:child_process';
import { constants } from 'node:fs';
import {
  chmod,
  chown,
  lchown,
  link,
  lstat,
  lutimes,
  mkdir,
  open,
  symlink,
  unlink,
  utimes,
} from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { ArchiveError, ArchiveErrorCode } from './archive-error.ts';
import { EntryChecker, type CheckedEntry, type EntryPolicyOptions } from './entry-policy.ts';
import { openTar } from './open-tar.ts';
import type { TarHeader } from './tar-header.ts';

const run = promisify(execFile);

export interface ExtractProgress {
  /** Bytes read from the source so far (compressed bytes for a gzipped archive). */
  readonly sourceBytes: number;
  /** Entries written so far. */
  readonly entries: number;
}

export interface ExtractOptions extends EntryPolicyOptions {
  readonly signal?: AbortSignal;
  readonly gzip?: 'auto' | boolean;
  readonly onProgress?: (progress: ExtractProgress) => void;
  /** Things skipped rather than failed (device nodes when not root). */
  readonly onWarning?: (message: string) => void;
}

export interface ExtractResult {
  readonly entries: number;
  /** Sum of the regular files' sizes. */
  readonly fileBytes: number;
  readonly sourceBytes: number;
}

interface DirectoryAttributes {
  readonly full: string;
  readonly header: TarHeader;
}

/**
 * Extracts a tar (gzip auto-detected) into `destDir` (created if missing), safely: every entry
 * passes `checkEntry` first; nothing is ever written through a symlink (each parent component
 * is checked with lstat, files are opened with O_NOFOLLOW|O_EXCL); modes (setuid/setgid only
 * as root), owners (as root), mtimes, symlinks and hard links are kept. Directory modes and
 * mtimes are applied at the end. On error or abort it throws and leaves a partial tree: the
 * caller removes `destDir`.
 */
export async function extractTar(
  source: Readable,
  destDir: string,
  options: ExtractOptions = {},
): Promise<ExtractResult> {
  const asRoot = process.getuid?.() === 0;
  const checker = new EntryChecker(options);
  const safeDirs = new Set<string>(['']);
  const directories: DirectoryAttributes[] = [];
  let sourceBytes = 0;
  let entries = 0;
  let fileBytes = 0;
  await mkdir(destDir, { recursive: true });

  const tar = openTar(source, {
    gzip: options.gzip ?? 'auto',
    ...(options.signal ? { signal: options.signal } : {}),
    onSourceBytes: (bytes) => {
      sourceBytes = bytes;
      options.onProgress?.({ sourceBytes, entries });
    },
  });
  for await (const { header, body } of tar) {
    options.signal?.throwIfAborted();
    const entry = checker.check(header);
    const parts = entry.path === '' ? [] : entry.path.split('/');
    await ensureParents(destDir, parts.slice(0, -1), safeDirs, header.name);
    const full = join(destDir, ...parts);

    switch (entry.type) {
      case 'directory':
        await makeDirectory(full);
        safeDirs.add(entry.path);
        directories.push({ full, header });
        break;
      case 'file':
      case 'contiguous-file':
        await clearNonDirectory(full, header.name);
        await writeFile(full, body, header, asRoot);
        fileBytes += header.size;
        break;
      case 'symlink':
        await clearNonDirectory(full, header.name);
        await symlink(requireTarget(entry), full);
        if (asRoot) await lchown(full, header.uid, header.gid);
        await lutimes(full, header.mtime, header.mtime);
        break;
      case 'link':
        await clearNonDirectory(full, header.name);
        await link(join(destDir, ...requireTarget(entry).split('/')), full);
        break;
      case 'character-device':
      case 'block-device':
      case 'fifo':
        await clearNonDirectory(full, header.name);
        await makeNode(full, entry, header, asRoot, options.onWarning);
        break;
    }
    entries += 1;
    options.onProgress?.({ sourceBytes, entries });
  }

  // Deepest first, so a read-only directory does not block setting its children.
  for (const { full, header } of directories.reverse()) {
    if (asRoot) await chown(full, header.uid, header.gid);
    await chmod(full, asRoot ? header.mode : header.mode & 0o1777);
    await utimes(full, header.mtime, header.mtime);
  }
  return { entries, fileBytes, sourceBytes };
}

function requireTarget(entry: CheckedEntry): string {
  if (entry.linkTarget === null) throw new Error(`entry '${entry.path}' has no link target`);
  return entry.linkTarget;
}

/** Makes sure every parent component is a real directory (created 0755 when missing). */
async function ensureParents(destDir: string, parents: readonly string[], safe: Set<string>, name: string) {
  for (let i = 1; i <= parents.length; i++) {
    const relative = parents.slice(0, i).join('/');
    if (safe.has(relative)) continue;
    const full = join(destDir, ...parents.slice(0, i));
    const stats = await lstat(full).catch((error: unknown) => {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    });
    if (stats === null) {
      await mkdir(full, { mode: 0o755 });
    } else if (!stats.isDirectory()) {
      const what = stats.isSymbolicLink() ? 'a symlink' : 'not a directory';
      throw new ArchiveError(
        ArchiveErrorCode.WriteThroughSymlink,
        `entry '${name}': parent '${relative}' is ${what}`,
        {
          entryPath: name,
        },
      );
    }
    safe.add(relative);
  }
}

/** Removes an earlier non-directory at `full` (a later entry wins, as with tar); refuses a directory. */
async function clearNonDirectory(full: string, name: string): Promise<void> {
  const stats = await lstat(full).catch(() => null);
  if (stats === null) return;
  if (stats.isDirectory()) {
    throw new ArchiveError(ArchiveErrorCode.EntryConflict, `entry '${name}' would replace a directory`, {
      entryPath: name,
    });
  }
  await unlink(full);
}

async function makeDirectory(full: string): Promise<void> {
  const stats = await lstat(full).catch(() => null);
  if (stats?.isDirectory()) return;
  if (stats !== null) await unlink(full); // an earlier symlink or file of the same name
  await mkdir(full, { mode: 0o700 });
}

async function writeFile(full: string, body: Readable, header: TarHeader, asRoot: boolean): Promise<void> {
  const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
  const handle = await open(full, flags, 0o600);
  try {
    for await (const chunk of body as AsyncIterable<Buffer>) {
      for (let written = 0; written < chunk.length;) {
        written += (await handle.write(chunk, written, chunk.length - written)).bytesWritten;
      }
    }
    if (asRoot) await handle.chown(header.uid, header.gid);
    // After chown, which clears setuid/setgid.
    await handle.chmod(asRoot ? header.mode : header.mode & 0o1777);
    await handle.utimes(header.mtime, header.mtime);
  } finally {
    await handle.close();
  }
}

async function makeNode(
  full: string,
  entry: CheckedEntry,
  header: TarHeader,
  asRoot: boolean,
  onWarning: ((message: string) => void) | undefined,
): Promise<void> {
  const mode = (header.mode & 0o7777).toString(8);
  if (entry.type === 'fifo') {
    await run('mknod', ['-m', mode, full, 'p']);
  } else {
    if (!asRoot) {
      onWarning?.(`skipped ${entry.type} '${header.name}': creating device nodes needs root`);
      return;
    }
    const kind = entry.type === 'character-device' ? 'c' : 'b';
    await run('mknod', ['-m', mode, full, kind, String(header.devmajor), String(header.devminor)]);
  }
  if (asRoot) await lchown(full, header.uid, header.gid);
  await utimes(full, header.mtime, header.mtime);
}
