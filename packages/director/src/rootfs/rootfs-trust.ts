import { createHash, createPublicKey, verify, type KeyObject } from 'node:crypto';
import { parse } from 'yaml';
import { ROOTFS_SIGNATURE_FILE, RootfsSignature, rootfsSignedMessage } from '@refit/protocol';
import { RootfsSignatureInvalid } from '../errors.ts';

/**
 * Which rootfs uploads the director accepts (config `rootfs`): those whose rootfs.MF.sig
 * verifies against one of `keys`; unsigned ones only when `requireSignature` is false.
 */
export interface RootfsTrust {
  readonly keys: ReadonlyMap<string, KeyObject>;
  readonly requireSignature: boolean;
}

/** No `rootfs` config: digests only, a signature is not looked at. */
export const digestsOnly: RootfsTrust = { keys: new Map(), requireSignature: false };

/** SHA-256 (hex) of the key's DER SubjectPublicKeyInfo. */
export function keyFingerprint(key: KeyObject): string {
  return createHash('sha256')
    .update(key.export({ type: 'spki', format: 'der' }))
    .digest('hex');
}

/** From the config's PEM texts (already checked to be Ed25519 public keys). */
export function rootfsTrust(config: {
  trustedKeys: readonly string[];
  requireSignature: boolean;
}): RootfsTrust {
  const keys = new Map<string, KeyObject>();
  for (const pem of config.trustedKeys) {
    const key = createPublicKey(pem);
    keys.set(keyFingerprint(key), key);
  }
  return { keys, requireSignature: config.requireSignature };
}

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

/**
 * Checks rootfs.MF.sig (`signature`, null when the archive has none) over the exact bytes of
 * rootfs.MF and of the install script (`rootfsSignedMessage`). Answers the signing key's fingerprint, or null for an accepted unsigned
 * archive (or when the director trusts no key: then a signature cannot be checked and is not).
 */
export function checkRootfsSignature(
  parts: { readonly manifest: Buffer; readonly install: Buffer },
  signature: Buffer | null,
  trust: RootfsTrust,
): string | null {
  const known = [...trust.keys.keys()].join(', ');
  if (signature === null) {
    if (!trust.requireSignature) return null;
    throw new RootfsSignatureInvalid(
      `Rootfs archive has no ${ROOTFS_SIGNATURE_FILE}; this director accepts only rootfs signed by a trusted key (${known})`,
    );
  }
  if (trust.keys.size === 0) return null;
  let parsed;
  try {
    parsed = RootfsSignature.safeParse(parse(signature.toString('utf8')));
  } catch (error) {
    throw new RootfsSignatureInvalid(
      `${ROOTFS_SIGNATURE_FILE} is not valid YAML: ${(error as Error).message}`,
    );
  }
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(top level)'}: ${i.message}`);
    throw new RootfsSignatureInvalid(`${ROOTFS_SIGNATURE_FILE} is malformed: ${issues.join('; ')}`);
  }
  const fingerprint = parsed.data.key_fingerprint;
  const key = trust.keys.get(fingerprint);
  if (key === undefined) {
    throw new RootfsSignatureInvalid(
      `${ROOTFS_SIGNATURE_FILE} is signed by key ${fingerprint}, which this director does not trust (${known})`,
    );
  }
  const message = Buffer.from(rootfsSignedMessage(sha256(parts.manifest), sha256(parts.install)), 'utf8');
  if (!verify(null, message, key, Buffer.from(parsed.data.signature, 'base64'))) {
    throw new RootfsSignatureInvalid(
      `${ROOTFS_SIGNATURE_FILE} does not verify: rootfs.MF or install is not what key ${fingerprint} signed`,
    );
  }
  return fingerprint;
}
