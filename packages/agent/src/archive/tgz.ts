import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, lstat, readlink, symlink, chmod, open } from 'node:fs/promises';
import { join, normalize, isAbsolute, relative, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createGzip } from 'node:zlib';
import tar from 'tar-stream';
import { AgentError, AgentErrorCode } from '../errors.ts';

/** Resolves an archive entry name inside `dest`, refusing anything that would escape it. */
function safeTarget(dest: string, name: string): string | null {
  const clean = normalize(name.replace(/^\.\/+/, ''));
  if (clean === '.' || clean === '' || clean === './') return null;
  if (isAbsolute(clean) || clean === '..' || clean.startsWith(`..${sep}`)) {
    throw new AgentError(
      AgentErrorCode.UnsafeArchive,
      `archive entry '${name}' escapes the target directory`,
    );
  }
  return join(dest, clean);
}

/**
 * Unpacks a gzipped tarball into `dest` (created if missing). Regular files, directories and
 * symlinks only; entries may not escape `dest`. `prefix` keeps only entries under that folder
 * (with the folder stripped), as the rendered templates archive holds one folder per job.
 */
export async function extractTgz(
  file: string,
  dest: string,
  options: { prefix?: string; signal?: AbortSignal } = {},
): Promise<void> {
  await mkdir(dest, { recursive: true });
  const prefix = options.prefix?.replace(/^\.\/+/, '').replace(/\/+$/, '');
  const extract = tar.extract();
  const done = (async () => {
    for await (const entry of extract) {
      const header = entry.header;
      let name = header.name.replace(/^\.\/+/, '').replace(/\/+$/, '');
      if (prefix !== undefined) {
        if (name === prefix) name = '';
        else if (name.startsWith(`${prefix}/`)) name = name.slice(prefix.length + 1);
        else {
          entry.resume();
          continue;
        }
      }
      const target = safeTarget(dest, name);
      if (target === null) {
        entry.resume();
        continue;
      }
      const mode = (header.mode ?? 0o644) & 0o7777;
      switch (header.type) {
        case 'directory':
          await mkdir(target, { recursive: true });
          await chmod(target, mode | 0o700);
          entry.resume();
          break;
        case 'file':
        case 'contiguous-file': {
          await mkdir(join(target, '..'), { recursive: true });
          await pipeline(entry, createWriteStream(target, { mode }));
          await chmod(target, mode);
          break;
        }
        case 'symlink': {
          const link = header.linkname ?? '';
          // A link may point anywhere inside the tree; an absolute or escaping one is refused.
          const resolved = normalize(join(target, '..', link));
          if (isAbsolute(link) || relative(dest, resolved).startsWith('..')) {
            throw new AgentError(
              AgentErrorCode.UnsafeArchive,
              `archive symlink '${name}' -> '${link}' escapes`,
            );
          }
          await mkdir(join(target, '..'), { recursive: true });
          await symlink(link, target);
          entry.resume();
          break;
        }
        case 'link':
        case 'block-device':
        case 'character-device':
        case 'fifo':
        case null:
        case undefined:
        default:
          // Devices, fifos, hard links: never needed by jobs or packages; skipped.
          entry.resume();
      }
    }
  })();
  await Promise.all([
    pipeline(
      createReadStream(file),
      createGunzip(),
      extract,
      options.signal ? { signal: options.signal } : {},
    ),
    done,
  ]);
}

async function* walk(root: string, dir: string): AsyncGenerator<string> {
  const names = (await readdir(join(root, dir))).sort();
  for (const name of names) {
    const rel = dir === '' ? name : `${dir}/${name}`;
    yield rel;
    const st = await lstat(join(root, rel));
    if (st.isDirectory()) yield* walk(root, rel);
  }
}

/** Packs the contents of `dir` (entries named `./…` as BOSH's tarballs are) into a gzipped tarball. */
export async function createTgz(dir: string, file: string, signal?: AbortSignal): Promise<void> {
  const pack = tar.pack();
  const writing = pipeline(pack, createGzip(), createWriteStream(file), signal ? { signal } : {});
  try {
    for await (const rel of walk(dir, '')) {
      const full = join(dir, rel);
      const st = await lstat(full);
      const common = { name: `./${rel}`, mode: st.mode & 0o7777, mtime: st.mtime };
      if (st.isDirectory()) {
        pack.entry({ ...common, type: 'directory' });
      } else if (st.isSymbolicLink()) {
        pack.entry({ ...common, type: 'symlink', linkname: await readlink(full) });
      } else if (st.isFile()) {
        const entry = pack.entry({ ...common, type: 'file', size: st.size });
        const handle = await open(full);
        await pipeline(handle.createReadStream(), entry);
      }
    }
    pack.finalize();
  } catch (error) {
    pack.destroy(error as Error);
    throw error;
  }
  await writing;
}
