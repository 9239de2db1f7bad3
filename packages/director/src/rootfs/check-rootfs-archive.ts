import { createReadStream } from 'node:fs';
import { PassThrough, type Readable, type Writable } from 'node:stream';
import { ArchiveError, DigestingStream, entryComponents, EntryChecker, openTar } from '@refit/archive';
import { ROOTFS_SIGNATURE_FILE, ROOTFS_SIGNATURE_MAX_BYTES, RootfsManifest } from '@refit/protocol';
import type { BlobInfo, Blobstore } from '../blobstore/blobstore.ts';
import {
  RootfsDigestDoesNotMatch,
  RootfsInvalidArchive,
  RootfsSignatureInvalid,
  ValidationInvalidType,
} from '../errors.ts';
import { parseManifest } from '../stemcells/parse-manifest.ts';
import { readSmallBody } from '../stemcells/read-small-body.ts';
import { checkRootfsSignature, type RootfsTrust } from './rootfs-trust.ts';

const MANIFEST = 'rootfs.MF';

/**
 * `Verifying rootfs manifest`: reads rootfs.MF from the archive (refit-stemcell writes it first,
 * so this reads a few KB; elsewhere in the archive costs one decompression) and validates it.
 */
export async function readRootfsManifest(archive: string, signal: AbortSignal): Promise<RootfsManifest> {
  return (await readRootfsManifestText(archive, signal)).manifest;
}

/** `readRootfsManifest`, also answering rootfs.MF's text (what a signature must cover). */
export async function readRootfsManifestText(
  archive: string,
  signal: AbortSignal,
): Promise<{ manifest: RootfsManifest; text: string }> {
  let text: string | null = null;
  try {
    const checker = new EntryChecker();
    for await (const entry of openTar(createReadStream(archive), { signal })) {
      const checked = checker.check(entry.header);
      if (checked.path === MANIFEST && checked.type === 'file') {
        text = await readSmallBody(entry.body, MANIFEST);
        break;
      }
    }
  } catch (error) {
    throw invalid(error);
  }
  if (text === null) throw new RootfsInvalidArchive(`Rootfs archive has no ${MANIFEST}`);
  const manifest = parseManifest(RootfsManifest, text, MANIFEST, (m) => new RootfsInvalidArchive(m));
  for (const [field, path] of [
    ['root_archive.path', manifest.root_archive.path],
    ['install', manifest.install],
  ] as const) {
    try {
      if (entryComponents(path).length === 0) throw new Error('empty');
    } catch {
      throw new ValidationInvalidType(
        `Property '${field}' value ("${path}") in ${MANIFEST} is not a path inside the archive`,
      );
    }
  }
  return { manifest, text };
}

/** What the signature check of an upload needs: rootfs.MF as first read, and the trust. */
export interface SignatureCheck {
  readonly manifestText: string;
  readonly trust: RootfsTrust;
}

export interface VerifyAndStoreOptions {
  readonly archive: string;
  readonly manifest: RootfsManifest;
  readonly blobstore: Blobstore;
  readonly signal: AbortSignal;
  /** Whether a blob is used by a saved rootfs (then a failed check must not delete it). */
  readonly isReferenced: (blobId: string) => Promise<boolean>;
  /** Check rootfs.MF.sig too (absent: digests only). */
  readonly signature?: SignatureCheck;
}

/**
 * One read of rootfs.tgz feeding two consumers at once: the blobstore (`put`, which hashes it)
 * and the checker (every member of rootfs.tgz and of the root archive against the
 * hostile-entry policy, devices allowed only under `dev/`; the root archive's sha256 and size
 * computed while it is parsed; the install script present and a regular file). Either failing
 * stops the other; a stored blob that failed the check is removed unless a saved rootfs uses it.
 */
export async function verifyAndStoreRootfs(
  options: VerifyAndStoreOptions,
): Promise<BlobInfo & { readonly signedBy: string | null }> {
  const stop = new AbortController();
  const signal = AbortSignal.any([options.signal, stop.signal]);
  const toBlob = new PassThrough();
  const toCheck = new PassThrough();
  const feeding = fanOut(createReadStream(options.archive), [toBlob, toCheck], signal);
  const storing = options.blobstore.put(toBlob, signal);
  const checking = checkRootfsStream(toCheck, options.manifest, signal, options.signature);
  const failFast = <T>(promise: Promise<T>): Promise<T> =>
    promise.catch((error: unknown) => {
      stop.abort(error);
      throw error;
    });
  const [fed, stored, checked] = await Promise.allSettled([
    failFast(feeding),
    failFast(storing),
    failFast(checking),
  ]);
  const failed = checked.status === 'rejected' || fed.status === 'rejected' || options.signal.aborted;
  if (stored.status === 'fulfilled' && failed) {
    if (!(await options.isReferenced(stored.value.id))) await options.blobstore.delete(stored.value.id);
  }
  options.signal.throwIfAborted();
  // The checker's verdict first (when the store failed, it was stopped with the store's error).
  if (checked.status === 'rejected') throw checked.reason;
  if (stored.status === 'rejected') throw stored.reason;
  if (fed.status === 'rejected') throw fed.reason;
  return { ...stored.value, signedBy: checked.value };
}

/** Writes every chunk of `source` to each sink, honouring each one's backpressure. */
async function fanOut(source: Readable, sinks: readonly Writable[], signal: AbortSignal): Promise<void> {
  const onAbort = () => {
    source.destroy();
    for (const sink of sinks) sink.destroy(signal.reason as Error);
  };
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    for await (const chunk of source as AsyncIterable<Buffer>) {
      signal.throwIfAborted();
      await Promise.all(sinks.map((sink) => write(sink, chunk)));
    }
    for (const sink of sinks) if (!sink.destroyed) sink.end();
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}

function write(sink: Writable, chunk: Buffer): Promise<void> {
  // A consumer that has finished (the checker after the end of the tar) just stops listening.
  if (sink.destroyed || sink.writableEnded) return Promise.resolve();
  if (sink.write(chunk)) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      sink.off('drain', done);
      sink.off('close', done);
      resolve();
    };
    sink.on('drain', done);
    sink.on('close', done);
  });
}

/**
 * The checks of `verifyAndStoreRootfs` over a stream of rootfs.tgz. With `signature`, the
 * rootfs.MF in the stream must be the one first read, and rootfs.MF.sig is checked over its
 * bytes (before the digests: a forged manifest is reported as such). Answers the fingerprint of
 * the key that signed, or null.
 */
export async function checkRootfsStream(
  source: Readable,
  manifest: RootfsManifest,
  signal: AbortSignal,
  signature?: SignatureCheck,
): Promise<string | null> {
  const rootPath = entryComponents(manifest.root_archive.path).join('/');
  const installPath = entryComponents(manifest.install).join('/');
  let root: { sha256: string; size: number } | null = null;
  let installType: string | null = null;
  let manifestBytes: Buffer | null = null;
  let signatureBytes: Buffer | null = null;
  let installBytes: Buffer | null = null;
  try {
    const outer = new EntryChecker();
    for await (const entry of openTar(source, { signal })) {
      const checked = outer.check(entry.header);
      if (signature !== undefined && (checked.path === MANIFEST || checked.path === ROOTFS_SIGNATURE_FILE)) {
        const isManifest = checked.path === MANIFEST;
        if ((isManifest ? manifestBytes : signatureBytes) !== null || checked.type !== 'file') {
          throw new RootfsInvalidArchive(
            `Rootfs archive has more than one ${checked.path}, or not as a file`,
          );
        }
        const bytes = await smallBytes(
          entry.body,
          checked.path,
          isManifest ? 1 << 20 : ROOTFS_SIGNATURE_MAX_BYTES,
        );
        if (isManifest) manifestBytes = bytes;
        else signatureBytes = bytes;
      } else if (checked.path === rootPath) {
        if (checked.type !== 'file' && checked.type !== 'contiguous-file') {
          throw new RootfsInvalidArchive(
            `Root archive '${manifest.root_archive.path}' is a ${checked.type}, not a file`,
          );
        }
        root = await checkRootArchive(entry.body, manifest.root_archive.path, signal);
      } else if (checked.path === installPath) {
        installType = checked.type;
        // The signature covers the install script (the agent runs it as root): keep its bytes.
        if (signature !== undefined && installBytes === null && checked.type === 'file') {
          installBytes = await smallBytes(entry.body, checked.path, 1 << 20);
        }
      }
    }
  } catch (error) {
    throw invalid(error);
  }
  let signedBy: string | null = null;
  if (signature !== undefined) {
    if (manifestBytes === null || manifestBytes.toString('utf8') !== signature.manifestText) {
      throw new RootfsSignatureInvalid(`${MANIFEST} changed while the upload was checked`);
    }
    signedBy = checkRootfsSignature(
      { manifest: manifestBytes, install: installBytes ?? Buffer.alloc(0) },
      signatureBytes,
      signature.trust,
    );
  }
  if (root === null) {
    throw new RootfsInvalidArchive(
      `Root archive '${manifest.root_archive.path}' named in ${MANIFEST} is not in the archive`,
    );
  }
  if (root.sha256 !== manifest.root_archive.sha256) {
    throw new RootfsDigestDoesNotMatch(
      `Root archive '${manifest.root_archive.path}' has sha256 '${root.sha256}', ${MANIFEST} says '${manifest.root_archive.sha256}'`,
    );
  }
  if (manifest.root_archive.size !== undefined && root.size !== manifest.root_archive.size) {
    throw new RootfsDigestDoesNotMatch(
      `Root archive '${manifest.root_archive.path}' has ${root.size} bytes, ${MANIFEST} says ${manifest.root_archive.size}`,
    );
  }
  if (installType === null) {
    throw new RootfsInvalidArchive(
      `Install script '${manifest.install}' named in ${MANIFEST} is not in the archive`,
    );
  }
  if (installType !== 'file' && installType !== 'contiguous-file') {
    throw new RootfsInvalidArchive(
      `Install script '${manifest.install}' is a ${installType}, not a regular file`,
    );
  }
  return signedBy;
}

async function smallBytes(body: Readable, name: string, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new RootfsInvalidArchive(`${name} is larger than ${limit} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** Parses the root tree archive (a plain tar), checking every entry, hashing it in the same pass. */
async function checkRootArchive(
  body: Readable,
  name: string,
  signal: AbortSignal,
): Promise<{ sha256: string; size: number }> {
  const digesting = new DigestingStream(['sha256']);
  body.pipe(digesting);
  body.on('error', (error) => digesting.destroy(error));
  const checker = new EntryChecker({ allowDevicesUnder: 'dev' });
  try {
    for await (const entry of openTar(digesting, { gzip: false, signal })) checker.check(entry.header);
  } catch (error) {
    if (error instanceof ArchiveError) {
      throw new RootfsInvalidArchive(`Root archive '${name}': ${error.message}`, { cause: error });
    }
    throw error;
  }
  // Trailing blocks after the end-of-archive marker still count for the digest.
  for await (const _ of digesting) {
    // drained
  }
  const { size, digests } = digesting.result();
  return { sha256: digests.sha256 ?? '', size };
}

function invalid(error: unknown): unknown {
  if (error instanceof ArchiveError) {
    return new RootfsInvalidArchive(`Rootfs archive is invalid: ${error.message}`, { cause: error });
  }
  return error;
}
