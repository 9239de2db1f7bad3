import { access, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { ROOTFS_SIGNATURE_FILE, RootfsManifest, STAGED_ROOTS_DIR } from '@refit/protocol';
import { errorMessage } from '../errors.ts';
import { readBootState, type RootfsPaths } from './boot-state.ts';
import { verifyRootfsSignature, type TrustedKeys } from './rootfs-trust.ts';

/**
 * What the agent keeps beside each staged root (`rootfs/kept/<root dir name>/`): the exact
 * rootfs.MF, install and rootfs.MF.sig bytes it verified, and the rootfs.tgz digest it staged
 * them from. Rolling back to that root (it is still `previous` or `current`) then needs no
 * download: the kept bytes are verified again (signature against the keys the running root
 * trusts, rootfs.MF naming this root's sha256, the version policy) and install runs again.
 */
export interface KeptFiles {
  readonly manifest: Buffer;
  readonly install: Buffer;
  /** rootfs.MF.sig's bytes; null when the archive had none. */
  readonly signature: Buffer | null;
  /** `<algorithm>:<hex>` of the rootfs.tgz these bytes came from. */
  readonly digest: string;
}

const MANIFEST = 'rootfs.MF';
const INSTALL = 'install';
const SOURCE = 'source.json';

export const keptDir = (paths: RootfsPaths, rootName: string): string => join(paths.kept, rootName);

/** Writes the kept files into a partial directory, then renames it into place. */
export async function keepRootFiles(paths: RootfsPaths, rootName: string, files: KeptFiles): Promise<void> {
  await mkdir(paths.kept, { recursive: true });
  const partial = join(paths.kept, `.partial-${rootName}-${process.pid}`);
  await rm(partial, { recursive: true, force: true });
  await mkdir(partial);
  await writeFile(join(partial, MANIFEST), files.manifest);
  await writeFile(join(partial, INSTALL), files.install, { mode: 0o644 });
  if (files.signature !== null) await writeFile(join(partial, ROOTFS_SIGNATURE_FILE), files.signature);
  await writeFile(join(partial, SOURCE), JSON.stringify({ digest: files.digest }));
  const dest = keptDir(paths, rootName);
  await rm(dest, { recursive: true, force: true });
  await rename(partial, dest);
}

/** The kept files of a root, or why there are none usable. */
async function readKept(paths: RootfsPaths, rootName: string): Promise<KeptFiles | string> {
  const dir = keptDir(paths, rootName);
  try {
    const manifest = await readFile(join(dir, MANIFEST));
    const install = await readFile(join(dir, INSTALL));
    const signature = await readFile(join(dir, ROOTFS_SIGNATURE_FILE)).catch(
      (error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT') return null;
        throw error;
      },
    );
    const source = JSON.parse(await readFile(join(dir, SOURCE), 'utf8')) as { digest?: unknown };
    if (typeof source.digest !== 'string') return `${SOURCE} names no digest`;
    return { manifest, install, signature, digest: source.digest };
  } catch (error) {
    return `its kept files are missing or unreadable (${errorMessage(error)})`;
  }
}

export interface KeptMatch {
  /** `<algorithm>:<hex>` of the rootfs.tgz asked for. */
  readonly digest: string;
  /** root.tar's sha256 the director knows from the upload (update_rootfs `root_archive_sha256`). */
  readonly rootArchiveSha256: string | null;
}

export type KeptRoot =
  | {
      readonly found: true;
      /** In-VM path of the root, `roots/<sha256>` or `roots/<sha256>.<n>`. */
      readonly root: string;
      readonly manifest: RootfsManifest;
      readonly install: Buffer;
    }
  /** `reason` null: no kept root matches (nothing to say); else why one could not be used. */
  | { readonly found: false; readonly reason: string | null };

const exists = (path: string): Promise<boolean> =>
  access(path).then(
    () => true,
    () => false,
  );

/**
 * The `previous` or `current` root in the boot state that is the rootfs asked for (same
 * rootfs.tgz digest as when it was staged, or the root sha256 the director names), complete,
 * with kept files that verify: rootfs.MF parses and names this root's sha256, and with trusted
 * keys rootfs.MF.sig verifies over the kept rootfs.MF and install bytes. `checkVersion` (the
 * downgrade policy) throws as it would for a download.
 */
export async function findKeptRoot(
  paths: RootfsPaths,
  match: KeptMatch,
  trusted: TrustedKeys,
  complete: string,
  checkVersion?: (version: string) => void,
): Promise<KeptRoot> {
  const state = await readBootState(paths).catch(() => null);
  for (const r of [state?.previous ?? null, state?.current ?? null]) {
    if (r === null || r.root === null || r.root_archive_sha256 === null) continue;
    const sha = r.root_archive_sha256;
    const name = r.root.slice(STAGED_ROOTS_DIR.length + 1);
    if (!r.root.startsWith(`${STAGED_ROOTS_DIR}/`) || (name !== sha && !name.startsWith(`${sha}.`))) continue;
    const named = match.rootArchiveSha256 === sha;
    if (match.rootArchiveSha256 !== null && !named) continue;
    const kept = await readKept(paths, name);
    if (typeof kept === 'string') {
      if (named) return { found: false, reason: `root ${r.root}: ${kept}` };
      continue;
    }
    if (!named && kept.digest !== match.digest) continue;
    const why = (reason: string): KeptRoot => ({ found: false, reason: `root ${r.root}: ${reason}` });
    if (!(await exists(join(paths.local(r.root), complete)))) return why('not completely unpacked');
    let manifest: RootfsManifest;
    try {
      manifest = RootfsManifest.parse(parseYaml(kept.manifest.toString('utf8')));
    } catch (error) {
      return why(`kept rootfs.MF is invalid: ${errorMessage(error)}`);
    }
    if (manifest.root_archive.sha256 !== sha) {
      return why(`kept rootfs.MF names root sha256 ${manifest.root_archive.sha256}, not ${sha}`);
    }
    checkVersion?.(manifest.version);
    if (trusted.size > 0) {
      try {
        verifyRootfsSignature({ manifest: kept.manifest, install: kept.install }, kept.signature, trusted);
      } catch (error) {
        return why(`kept signature does not verify: ${errorMessage(error)}`);
      }
    }
    return { found: true, root: r.root, manifest, install: kept.install };
  }
  return { found: false, reason: null };
}
