import { createHash, createPublicKey, verify, type KeyObject } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { TarEntry } from '@refit/archive';
import {
  ROOTFS_SIGNATURE_FILE,
  ROOTFS_SIGNATURE_MAX_BYTES,
  ROOTFS_TRUSTED_KEYS_DIR,
  RootfsSignature,
  rootfsSignedMessage,
} from '@refit/protocol';
import { AgentError, AgentErrorCode } from '../errors.ts';

/** The Ed25519 public keys the running root trusts, by fingerprint. Empty: none baked in. */
export type TrustedKeys = ReadonlyMap<string, KeyObject>;

const untrusted = (message: string) => new AgentError(AgentErrorCode.UntrustedRootfs, message);

/** SHA-256 (hex) of the key's DER SubjectPublicKeyInfo. */
export function keyFingerprint(key: KeyObject): string {
  return createHash('sha256')
    .update(key.export({ type: 'spki', format: 'der' }))
    .digest('hex');
}

/**
 * The keys baked into the running root at ROOTFS_TRUSTED_KEYS_DIR (`dir` is where the agent sees
 * it). Every `*.pem` there must be an Ed25519 public key: a broken one fails closed, it never
 * silently lowers the VM to digest-only checks.
 */
export async function loadTrustedKeys(dir: string): Promise<TrustedKeys> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => n.endsWith('.pem')).sort();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return new Map();
    throw error;
  }
  const keys = new Map<string, KeyObject>();
  for (const name of names) {
    let key: KeyObject;
    try {
      key = createPublicKey(await readFile(join(dir, name)));
    } catch (cause) {
      throw new AgentError(
        AgentErrorCode.UntrustedRootfs,
        `trusted key ${ROOTFS_TRUSTED_KEYS_DIR}/${name} is not a public key: ${(cause as Error).message}`,
        { cause },
      );
    }
    if (key.asymmetricKeyType !== 'ed25519') {
      throw untrusted(`trusted key ${ROOTFS_TRUSTED_KEYS_DIR}/${name} is not an Ed25519 key`);
    }
    keys.set(keyFingerprint(key), key);
  }
  return keys;
}

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

/** The exact bytes of rootfs.MF and of the install script, as the agent read and will use them. */
export interface SignedParts {
  readonly manifest: Buffer;
  readonly install: Buffer;
}

/**
 * Checks `signatureFile` (rootfs.MF.sig's bytes, null when the archive has none) against the
 * exact rootfs.MF and install bytes the agent parsed and will run, and answers the signing key's
 * fingerprint.
 */
export function verifyRootfsSignature(
  parts: SignedParts,
  signatureFile: Buffer | null,
  trusted: TrustedKeys,
): string {
  const known = [...trusted.keys()].join(', ');
  if (signatureFile === null) {
    throw untrusted(
      `rootfs.tgz has no ${ROOTFS_SIGNATURE_FILE}, and this VM's root trusts only signed roots (keys ${known})`,
    );
  }
  let raw: unknown;
  try {
    raw = parseYaml(signatureFile.toString('utf8'));
  } catch (error) {
    throw untrusted(`${ROOTFS_SIGNATURE_FILE} is not valid YAML: ${(error as Error).message}`);
  }
  const parsed = RootfsSignature.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(top)'}: ${i.message}`);
    throw untrusted(`${ROOTFS_SIGNATURE_FILE} is malformed: ${issues.join('; ')}`);
  }
  const fingerprint = parsed.data.key_fingerprint;
  const key = trusted.get(fingerprint);
  if (key === undefined) {
    throw untrusted(
      `${ROOTFS_SIGNATURE_FILE} is by key ${fingerprint}, which this VM's root does not trust (keys ${known})`,
    );
  }
  const message = Buffer.from(rootfsSignedMessage(sha256(parts.manifest), sha256(parts.install)), 'utf8');
  if (!verify(null, message, key, Buffer.from(parsed.data.signature, 'base64'))) {
    throw untrusted(
      `${ROOTFS_SIGNATURE_FILE} does not verify: rootfs.MF or install is not what key ${fingerprint} signed`,
    );
  }
  return fingerprint;
}

/**
 * rootfs.MF.sig's bytes: the member after root.tar. With trusted keys (`required`) any other
 * member there is refused; without, a missing or other member is null (digests only, as before
 * signatures), and the bytes are only kept for a later re-verification.
 */
export async function readSignatureAfterRoot(
  entries: AsyncGenerator<TarEntry>,
  required: boolean,
): Promise<Buffer | null> {
  const step = await entries.next();
  if (step.done === true) return null;
  const name = step.value.header.name.replace(/^\.\//, '');
  if (name !== ROOTFS_SIGNATURE_FILE) {
    if (!required) return null;
    throw untrusted(`rootfs.tgz: expected ${ROOTFS_SIGNATURE_FILE} after root.tar, found ${name}`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of step.value.body as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > ROOTFS_SIGNATURE_MAX_BYTES) {
      if (!required) return null;
      throw untrusted(`${ROOTFS_SIGNATURE_FILE} is larger than ${ROOTFS_SIGNATURE_MAX_BYTES} bytes`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/**
 * Reads rootfs.MF.sig (the member after root.tar) and, with trusted keys, verifies it over
 * `parts` (rootfs.MF's and install's bytes as read). Without keys (none baked into the running
 * root) it only reads it: digests only, as before signatures. Answers the signing key's
 * fingerprint (null without keys) and the signature's bytes (null when there were none).
 */
export async function verifySignatureAfterRoot(
  entries: AsyncGenerator<TarEntry>,
  parts: SignedParts,
  trusted: TrustedKeys,
): Promise<{ fingerprint: string | null; signature: Buffer | null }> {
  const signature = await readSignatureAfterRoot(entries, trusted.size > 0);
  if (trusted.size === 0) return { fingerprint: null, signature };
  return { fingerprint: verifyRootfsSignature(parts, signature, trusted), signature };
}
