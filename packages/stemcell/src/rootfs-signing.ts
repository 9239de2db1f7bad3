import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign,
  type KeyObject,
} from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { ROOTFS_TRUSTED_KEYS_DIR, RootfsSignature, rootfsSignedMessage } from '@refit/protocol';
import { textFile, type RootEntry } from './root-entry.ts';

export const SIGNING_KEY_FILE = 'rootfs-signing-key.pem';
export const PUBLIC_KEY_FILE = 'rootfs-signing-key.pub.pem';

/** SHA-256 (hex) of the key's DER SubjectPublicKeyInfo: what rootfs.MF.sig and the VM name it by. */
export function keyFingerprint(key: KeyObject): string {
  const publicKey = key.type === 'private' ? createPublicKey(key) : key;
  return createHash('sha256')
    .update(publicKey.export({ type: 'spki', format: 'der' }))
    .digest('hex');
}

function ed25519(key: KeyObject, file: string): KeyObject {
  if (key.asymmetricKeyType !== 'ed25519')
    throw new Error(`${file}: an Ed25519 key is required, this is ${key.asymmetricKeyType ?? 'unknown'}`);
  return key;
}

export interface KeyPairFiles {
  readonly private_key: string;
  readonly public_key: string;
  readonly key_fingerprint: string;
}

/**
 * `refit-stemcell keygen --out DIR`: a new Ed25519 key pair, the private key PKCS#8 PEM (mode
 * 0600) and the public key SPKI PEM. Existing files are never overwritten.
 */
export async function generateSigningKey(outDir: string): Promise<KeyPairFiles> {
  await mkdir(outDir, { recursive: true });
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const privatePath = join(outDir, SIGNING_KEY_FILE);
  const publicPath = join(outDir, PUBLIC_KEY_FILE);
  const privatePem = privateKey.export({ type: 'pkcs8', format: 'pem' });
  const publicPem = publicKey.export({ type: 'spki', format: 'pem' });
  await writeFile(privatePath, privatePem, { mode: 0o600, flag: 'wx' });
  await writeFile(publicPath, publicPem, { mode: 0o644, flag: 'wx' });
  return { private_key: privatePath, public_key: publicPath, key_fingerprint: keyFingerprint(publicKey) };
}

export async function readSigningKey(file: string): Promise<KeyObject> {
  let key: KeyObject;
  try {
    key = createPrivateKey(await readFile(file));
  } catch (cause) {
    throw new Error(`${file}: not a private key (PEM): ${(cause as Error).message}`, { cause });
  }
  return ed25519(key, file);
}

/** A public key file (or the public half of a private key file), as SPKI PEM. */
export async function readTrustKey(file: string): Promise<{ fingerprint: string; pem: string }> {
  let key: KeyObject;
  try {
    key = createPublicKey(await readFile(file));
  } catch (cause) {
    throw new Error(`${file}: not a public key (PEM): ${(cause as Error).message}`, { cause });
  }
  ed25519(key, file);
  return { fingerprint: keyFingerprint(key), pem: String(key.export({ type: 'spki', format: 'pem' })) };
}

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

/**
 * rootfs.MF.sig for `manifest` and `install` (the exact texts written as rootfs.MF and the
 * install script). Ed25519 is deterministic: the same inputs give the same bytes.
 */
export function signatureFile(manifest: string, install: string, key: KeyObject): string {
  const message = Buffer.from(rootfsSignedMessage(sha256(manifest), sha256(install)), 'utf8');
  const signature = sign(null, message, key).toString('base64');
  return stringify(
    RootfsSignature.parse({ algorithm: 'ed25519', key_fingerprint: keyFingerprint(key), signature }),
  );
}

/** The trusted keys baked into the root: `<ROOTFS_TRUSTED_KEYS_DIR>/<fingerprint>.pem` each. */
export function trustedKeysLayer(keys: readonly { fingerprint: string; pem: string }[]): RootEntry[] {
  const dir = ROOTFS_TRUSTED_KEYS_DIR.slice(1);
  return keys.map((k) => textFile(`${dir}/${k.fingerprint}.pem`, k.pem));
}
