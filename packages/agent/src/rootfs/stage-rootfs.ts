import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { access, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { parse as parseYaml } from 'yaml';
import { extractTar, openTar, type TarEntry } from '@refit/archive';
import {
  MultiDigest,
  ROOTFS_TRUSTED_KEYS_DIR,
  RootfsBootRecord,
  RootfsManifest,
  STAGED_ROOTS_DIR,
  strongestDigest,
  type BlobstoreSettings,
  type UpdateRootfsProgress,
  type UpdateRootfsResult,
} from '@refit/protocol';
import { AgentError, AgentErrorCode } from '../errors.ts';
import type { RootfsPaths } from './boot-state.ts';
import { readBootState } from './boot-state.ts';
import { installStaged } from './install-staged.ts';
import { findKeptRoot, keepRootFiles } from './kept-root.ts';
import { downloadResumable, type DownloadLimits, defaultDownloadLimits } from './ranged-download.ts';
import { loadTrustedKeys, verifySignatureAfterRoot } from './rootfs-trust.ts';

export interface StageRequest {
  readonly blobstoreId: string;
  readonly digest: string;
  readonly blobstore: BlobstoreSettings;
  readonly paths: RootfsPaths;
  readonly installTimeoutMs: number;
  /**
   * Restage even when this root is already staged or running: unpack it again into a fresh
   * directory (`roots/<sha256>.<n>`) and install that, so the next boot runs a pristine copy.
   */
  readonly force?: boolean;
  readonly limits?: DownloadLimits;
  /** Refuses a version (throws) as soon as it is known: before anything is unpacked or installed. */
  readonly checkVersion?: (version: string) => void;
  /**
   * root.tar's sha256 the director knows from the upload: a `previous` or `current` root with
   * this sha256 is staged again from its kept files, without a download.
   */
  readonly rootArchiveSha256?: string;
  /** Lines for the agent's log (why a kept root was or was not reused). */
  readonly log?: (line: string) => void;
  readonly report: (progress: UpdateRootfsProgress) => void;
  readonly signal: AbortSignal;
}

const exists = (path: string): Promise<boolean> =>
  access(path).then(
    () => true,
    () => false,
  );

/** Marks a completely unpacked and verified root (written last, before the rename). */
const COMPLETE = '.refit-root-complete';

/** The next member of rootfs.tgz, which must be `name`. */
async function member(entries: AsyncGenerator<TarEntry>, name: string): Promise<TarEntry> {
  const step = await entries.next();
  const got = step.done === true ? null : step.value.header.name.replace(/^\.\//, '');
  if (step.done === true || got !== name) {
    throw new AgentError(
      AgentErrorCode.UnsafeArchive,
      `rootfs.tgz: expected member ${name}, found ${got ?? 'the end'}`,
    );
  }
  return step.value;
}

async function bufferOf(body: Readable, max: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += (chunk as Buffer).length;
    if (size > max)
      throw new AgentError(AgentErrorCode.UnsafeArchive, `rootfs.tgz member larger than ${max} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/**
 * Stages a generic stemcell: download (resumable, verified in the same pass), rootfs.MF check,
 * root.tar unpacked into roots/<sha256> (its sha256 verified while unpacking), then the
 * tarball's `install` script. Nothing outside /var/vcap/data/rootfs changes before `install`.
 * When the running root trusts keys (ROOTFS_TRUSTED_KEYS_DIR), rootfs.MF.sig must verify
 * against one of them over the very rootfs.MF bytes that were parsed, before the unpacked root
 * is committed and before `install`; else the unpacked root and the download are removed.
 * A root the boot state still holds complete as `previous`/`current` (a rollback) is staged from
 * the rootfs.MF, install and rootfs.MF.sig kept beside it (kept-root.ts), verified again, with no
 * download; kept files missing or not verifying fall back to the download (logged).
 */
export async function stageRootfs(req: StageRequest): Promise<UpdateRootfsResult> {
  const { paths, signal } = req;
  const parsed = MultiDigest.safeParse(req.digest);
  if (!parsed.success)
    throw new AgentError(AgentErrorCode.InvalidArguments, `invalid digest '${req.digest}'`);
  const expected = strongestDigest(parsed.data);
  await mkdir(paths.downloads, { recursive: true });
  await mkdir(paths.roots, { recursive: true });
  // Leftovers of an interrupted staging: partial roots, other downloads.
  const key = createHash('sha256')
    .update(`${req.blobstoreId}\n${expected.algorithm}:${expected.hex}`)
    .digest('hex');
  const download = join(paths.downloads, `${key}.tgz`);
  await cleanLeftovers(paths, `${key}.tgz`);

  const indexFile = join(paths.downloads, `${key}.staged.json`);
  const known = await readFile(indexFile, 'utf8').then(
    (t) => JSON.parse(t) as { version: string; sha256: string },
    () => null,
  );
  const installed = known === null || req.force === true ? null : await installedRoot(paths, known.sha256);
  if (known !== null && installed !== null) {
    req.checkVersion?.(known.version);
    const staged = installed;
    req.report({ phase: 'staged', bytes_done: 0, bytes_total: 0, bytes_fetched: 0, version: known.version });
    return {
      version: known.version,
      sha256: known.sha256,
      staged_root: staged,
      already_staged: true,
      bytes_fetched: 0,
    };
  }

  // Before any download: a broken key file fails the staging rather than skipping the check.
  const trusted = await loadTrustedKeys(paths.local(ROOTFS_TRUSTED_KEYS_DIR));
  const digestText = `${expected.algorithm}:${expected.hex}`;
  if (req.force !== true) {
    // Rollback to the root this VM ran before (still on its disk): no download, same checks.
    const match = { digest: digestText, rootArchiveSha256: req.rootArchiveSha256 ?? null };
    const kept = await findKeptRoot(paths, match, trusted, COMPLETE, req.checkVersion);
    if (kept.found) {
      const { manifest, root } = kept;
      const sha256 = manifest.root_archive.sha256;
      req.log?.(
        `update_rootfs: ${manifest.version} is the kept root ${root}: its kept rootfs.MF${trusted.size > 0 ? ' and rootfs.MF.sig verified again' : ' checked'}, nothing downloaded`,
      );
      const at = { bytes_done: 0, bytes_total: null, bytes_fetched: 0, version: manifest.version };
      req.report({ phase: 'installing', ...at });
      await installStaged(kept.install, root, manifest, req);
      await writeFile(indexFile, JSON.stringify({ version: manifest.version, sha256 }));
      req.report({ phase: 'staged', ...at, bytes_total: 0 });
      const result = { version: manifest.version, sha256, staged_root: root, already_staged: false };
      return { ...result, bytes_fetched: 0, reused_kept_root: true };
    }
    if (kept.reason !== null) req.log?.(`update_rootfs: downloading ${digestText}: ${kept.reason}`);
  }
  let fetched = 0;
  req.report({ phase: 'downloading', bytes_done: 0, bytes_total: null, bytes_fetched: 0, version: null });
  try {
    const got = await downloadResumable(
      req.blobstore,
      req.blobstoreId,
      expected,
      download,
      signal,
      (p) => {
        fetched = p.fetched;
        req.report({
          phase: 'downloading',
          bytes_done: p.done,
          bytes_total: p.total,
          bytes_fetched: p.fetched,
          version: null,
        });
      },
      req.limits ?? defaultDownloadLimits,
    );
    fetched = got.fetched;
  } catch (error) {
    if ((error as AgentError).code === AgentErrorCode.DigestMismatch) await rm(download, { force: true });
    throw error;
  }

  req.report({ phase: 'verifying', bytes_done: 0, bytes_total: null, bytes_fetched: fetched, version: null });
  const entries = openTar(createReadStream(download), { signal });
  let manifest: RootfsManifest;
  let install: Buffer;
  let mfBytes: Buffer;
  let signature: Buffer | null = null;
  let rootName = '';
  try {
    const mf = await member(entries, 'rootfs.MF');
    // Read once: the signature is checked over these bytes, and these bytes are what is parsed
    // (likewise the install script: the buffer checked is the buffer written and run).
    mfBytes = await bufferOf(mf.body, 1 << 20);
    const mfParsed = RootfsManifest.safeParse(parseYaml(mfBytes.toString('utf8')));
    if (!mfParsed.success)
      throw new AgentError(AgentErrorCode.UnsafeArchive, `rootfs.MF is invalid: ${mfParsed.error.message}`);
    manifest = mfParsed.data;
    req.checkVersion?.(manifest.version);
    install = await bufferOf((await member(entries, manifest.install)).body, 1 << 20);
    const checkedInstall = install; // the bytes signed are the bytes run
    const sha = manifest.root_archive.sha256;
    rootName = req.force === true ? await freshRootName(paths, sha) : sha;
    const root = join(paths.roots, rootName);
    const checkSignature = async (): Promise<void> => {
      const checked = await verifySignatureAfterRoot(
        entries,
        { manifest: mfBytes, install: checkedInstall },
        trusted,
      );
      signature = checked.signature;
    };
    if (!(await exists(join(root, COMPLETE)))) {
      const tarEntry = await member(entries, manifest.root_archive.path);
      await unpackRoot(tarEntry, manifest, root, fetched, req, checkSignature);
    } else {
      // Unpacked and verified before: the signature, after root.tar, must still verify (and is
      // kept beside the root).
      const tarEntry = await member(entries, manifest.root_archive.path);
      for await (const _ of tarEntry.body) {
        // skipped
      }
      await checkSignature();
    }
  } catch (error) {
    // A root this VM does not trust: its download goes too (a retry fetches it again).
    if ((error as AgentError).code === AgentErrorCode.UntrustedRootfs) await rm(download, { force: true });
    throw error;
  } finally {
    await entries.return(undefined);
  }

  const sha256 = manifest.root_archive.sha256;
  const stagedRoot = `${STAGED_ROOTS_DIR}/${rootName}`;
  req.report({
    phase: 'installing',
    bytes_done: 0,
    bytes_total: null,
    bytes_fetched: fetched,
    version: manifest.version,
  });
  // Kept beside the root before install points the next boot at it (rollback without download).
  await keepRootFiles(paths, rootName, { manifest: mfBytes, install, signature, digest: digestText });
  await installStaged(install, stagedRoot, manifest, req);
  await writeFile(indexFile, JSON.stringify({ version: manifest.version, sha256 }));
  await rm(download, { force: true });
  req.report({
    phase: 'staged',
    bytes_done: 0,
    bytes_total: 0,
    bytes_fetched: fetched,
    version: manifest.version,
  });
  return {
    version: manifest.version,
    sha256,
    staged_root: stagedRoot,
    already_staged: false,
    bytes_fetched: fetched,
  };
}

/**
 * The in-VM path of the root with this sha256 that is unpacked and that the boot step will boot
 * or runs (the next record, the pending root, or the current one with nothing pending); null
 * when there is none. A forced restage may have put it at `roots/<sha256>.<n>`.
 */
async function installedRoot(paths: RootfsPaths, sha256: string): Promise<string | null> {
  const next = await readFile(paths.nextFile, 'utf8').then(
    (t) => RootfsBootRecord.safeParse(JSON.parse(t)).data ?? null,
    () => null,
  );
  const state = await readBootState(paths).catch(() => null);
  const candidates = [
    next,
    state?.pending ?? null,
    state !== null && state.pending === null && next === null ? state.current : null,
  ];
  for (const r of candidates) {
    if (r === null || r.root === null || r.root_archive_sha256 !== sha256) continue;
    const name = r.root.slice(STAGED_ROOTS_DIR.length + 1);
    if (!r.root.startsWith(`${STAGED_ROOTS_DIR}/`) || (name !== sha256 && !name.startsWith(`${sha256}.`)))
      continue;
    if (await exists(join(paths.local(r.root), COMPLETE))) return r.root;
  }
  return null;
}

/** `<sha256>.<n>`: the first name under roots/ not taken (a forced restage's fresh directory). */
async function freshRootName(paths: RootfsPaths, sha256: string): Promise<string> {
  for (let n = 1; ; n++) {
    const name = `${sha256}.${n}`;
    if (!(await exists(join(paths.roots, name)))) return name;
  }
}

async function cleanLeftovers(paths: RootfsPaths, keepDownload: string): Promise<void> {
  const { readdir } = await import('node:fs/promises');
  for (const name of await readdir(paths.roots)) {
    if (name.startsWith('.partial-')) await rm(join(paths.roots, name), { recursive: true, force: true });
  }
  for (const name of await readdir(paths.downloads)) {
    if (name.endsWith('.tgz') && name !== keepDownload)
      await rm(join(paths.downloads, name), { force: true });
  }
}

/**
 * Unpacks root.tar into a partial dir while hashing it; renamed into place only if the sha256
 * matches and `beforeCommit` (the signature check) passes.
 */
async function unpackRoot(
  entry: TarEntry,
  manifest: RootfsManifest,
  root: string,
  fetched: number,
  req: StageRequest,
  beforeCommit: () => Promise<void>,
): Promise<void> {
  const partial = join(req.paths.roots, `.partial-${manifest.root_archive.sha256}-${process.pid}`);
  await rm(partial, { recursive: true, force: true });
  const hash = createHash('sha256');
  const total = entry.header.size ?? manifest.root_archive.size ?? null;
  let done = 0;
  const source = entry.body[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  async function* hashed(): AsyncGenerator<Buffer> {
    for (;;) {
      const step = await source.next();
      if (step.done === true) return;
      hash.update(step.value);
      done += step.value.length;
      req.report({
        phase: 'unpacking',
        bytes_done: done,
        bytes_total: total,
        bytes_fetched: fetched,
        version: manifest.version,
      });
      yield step.value;
    }
  }
  try {
    await extractTar(Readable.from(hashed()), partial, {
      signal: req.signal,
      gzip: false,
      allowDevicesUnder: 'dev',
    });
    // Whatever the tar reader left unread (end padding) still counts for the digest.
    for (;;) {
      const step = await source.next();
      if (step.done === true) break;
      hash.update(step.value);
      done += step.value.length;
    }
    const actual = hash.digest('hex');
    if (actual !== manifest.root_archive.sha256) {
      throw new AgentError(
        AgentErrorCode.DigestMismatch,
        `root.tar sha256 is ${actual}, rootfs.MF says ${manifest.root_archive.sha256}`,
      );
    }
    await beforeCommit();
    await writeFile(join(partial, COMPLETE), `${manifest.name}/${manifest.version}\n`);
    await rm(root, { recursive: true, force: true });
    await rename(partial, root);
  } catch (error) {
    await rm(partial, { recursive: true, force: true });
    throw error;
  }
}
