import { z } from 'zod';

/**
 * Signed generic stemcells, Refit's addition: `rootfs.tgz` may carry `rootfs.MF.sig`, a detached
 * Ed25519 signature over `rootfsSignedMessage`: the sha256 of the exact bytes of its `rootfs.MF`
 * (which names root.tar's sha256, so the whole root is covered) and of its `install` script
 * (which the agent runs as root: it must be covered too, and rootfs.MF does not name its digest).
 * The builder (`refit-stemcell build --signing-key`) writes it as the LAST member, after
 * root.tar: agents that predate signatures read rootfs.MF, install and root.tar in that order and
 * stop, so they keep staging signed roots.
 *
 * A key's fingerprint is the SHA-256 (64 lowercase hex) of its DER SubjectPublicKeyInfo:
 * `openssl pkey -pubin -in key.pub.pem -outform DER | sha256sum`.
 */
export const ROOTFS_SIGNATURE_FILE = 'rootfs.MF.sig';

/**
 * In-VM directory of the public keys a running root trusts for its NEXT reload, one
 * `<fingerprint>.pem` (SPKI PEM) each, baked in by `refit-stemcell build --trust-key`. When it
 * holds a key, the agent stages only a rootfs.tgz whose rootfs.MF.sig verifies against one.
 */
export const ROOTFS_TRUSTED_KEYS_DIR = '/var/vcap/bosh/etc/rootfs-trusted-keys';

/**
 * The bytes an Ed25519 rootfs signature signs (UTF-8), from the hex sha256 of rootfs.MF's and
 * the install script's exact bytes. One statement binds both, so no signed install script can be
 * paired with another signed manifest.
 */
export function rootfsSignedMessage(manifestSha256: string, installSha256: string): string {
  return `refit-rootfs-signature-v1\nrootfs.MF sha256:${manifestSha256}\ninstall sha256:${installSha256}\n`;
}

/** Upper bound on rootfs.MF.sig's size (it is about 200 bytes). */
export const ROOTFS_SIGNATURE_MAX_BYTES = 4096;

export const KeyFingerprint = z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex characters');

/**
 * `rootfs.MF.sig` (YAML): which key signed (its fingerprint: a hint that picks the trusted key,
 * never trusted by itself) and the 64-byte Ed25519 signature, base64.
 */
export const RootfsSignature = z.strictObject({
  algorithm: z.literal('ed25519'),
  key_fingerprint: KeyFingerprint,
  signature: z.string().regex(/^[A-Za-z0-9+/]{86}==$/, 'must be the base64 of a 64-byte Ed25519 signature'),
});
export type RootfsSignature = z.infer<typeof RootfsSignature>;
