// stageRootfs against a VM root that trusts keys (and one that does not): real tarballs, real
// Ed25519 keys, a temp dir as the agent's base, the local blobstore.
import assert from 'node:assert/strict';
import { createHash, createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { after, before, beforeEach, describe, it } from 'node:test';
import { stringify } from 'yaml';
import {
  ROOTFS_SIGNATURE_FILE,
  ROOTFS_TRUSTED_KEYS_DIR,
  rootfsSignedMessage,
  type UpdateRootfsResult,
} from '@refit/protocol';
import { AgentErrorCode } from '../errors.ts';
import { rootfsPaths, type RootfsPaths } from './boot-state.ts';
import { keyFingerprint } from './rootfs-trust.ts';
import { stageRootfs } from './stage-rootfs.ts';
import { BOOT_RECORD_INSTALL, tarOf, type TarMember } from '../testing/rootfs-tarballs.ts';

const sha256Of = (data: Buffer) => createHash('sha256').update(data).digest('hex');

interface Build {
  /** The key that signs rootfs.MF; none: no rootfs.MF.sig. */
  readonly key?: KeyObject;
  /** Changes rootfs.MF after it was signed. */
  readonly tamper?: (mf: Buffer) => Buffer;
  /** Changes rootfs.MF.sig's bytes. */
  readonly mangle?: (sig: Buffer) => Buffer;
  /** Replaces the install script after it was signed. */
  readonly swapInstall?: string;
  readonly name?: string;
}

async function rootfsTgz(build: Build): Promise<Buffer> {
  const root = await tarOf([
    { name: './', body: '' },
    { name: './etc/', body: '' },
    { name: './etc/os-release', body: 'VERSION_ID=2\n' },
    { name: './sbin/', body: '' },
    { name: './sbin/refit-init', body: '#!/bin/sh\n', mode: 0o755 },
  ]);
  const sha256 = createHash('sha256').update(root).digest('hex');
  const mf = Buffer.from(
    stringify({
      name: build.name ?? 'refit-signed',
      version: '2',
      operating_system: 'os',
      api_version: 1,
      root_archive: { path: 'root.tar', sha256, size: root.length },
      install: 'install',
    }),
  );
  const members: TarMember[] = [
    { name: 'rootfs.MF', body: build.tamper ? build.tamper(mf) : mf },
    { name: 'install', body: build.swapInstall ?? BOOT_RECORD_INSTALL, mode: 0o755 },
    { name: 'root.tar', body: root },
  ];
  if (build.key !== undefined) {
    const sig = Buffer.from(
      stringify({
        algorithm: 'ed25519',
        key_fingerprint: keyFingerprint(createPublicKey(build.key)),
        signature: sign(
          null,
          Buffer.from(rootfsSignedMessage(sha256Of(mf), sha256Of(Buffer.from(BOOT_RECORD_INSTALL)))),
          build.key,
        ).toString('base64'),
      }),
    );
    members.push({ name: ROOTFS_SIGNATURE_FILE, body: build.mangle ? build.mangle(sig) : sig });
  }
  return gzipSync(await tarOf(members));
}

describe('stageRootfs and rootfs.MF.sig', () => {
  let dir: string;
  let base: string;
  let blobs: string;
  let paths: RootfsPaths;
  const trustedPair = generateKeyPairSync('ed25519');
  const otherPair = generateKeyPairSync('ed25519');
  const trustedFingerprint = keyFingerprint(trustedPair.publicKey);
  const otherFingerprint = keyFingerprint(otherPair.publicKey);
  let n = 0;

  async function stage(bytes: Buffer): Promise<UpdateRootfsResult> {
    const id = `rootfs-${(n += 1)}`;
    await writeFile(join(blobs, id), bytes);
    return stageRootfs({
      blobstoreId: id,
      digest: `sha256:${createHash('sha256').update(bytes).digest('hex')}`,
      blobstore: { provider: 'local', options: { blobstore_path: blobs } },
      paths,
      installTimeoutMs: 30_000,
      report: () => undefined,
      signal: AbortSignal.timeout(30_000),
    });
  }
  async function trust(...keys: KeyObject[]) {
    const keyDir = paths.local(ROOTFS_TRUSTED_KEYS_DIR);
    await rm(keyDir, { recursive: true, force: true });
    await mkdir(keyDir, { recursive: true });
    for (const key of keys) {
      await writeFile(
        join(keyDir, `${keyFingerprint(key)}.pem`),
        key.export({ type: 'spki', format: 'pem' }),
      );
    }
  }
  /** Refused with the untrusted-root code and `message`, leaving no root, record or download. */
  async function assertRefused(bytes: Buffer, message: RegExp) {
    const roots = await readdir(paths.roots).catch(() => []);
    await assert.rejects(stage(bytes), (e: Error & { code?: string }) => {
      assert.equal(e.code, AgentErrorCode.UntrustedRootfs, e.message);
      assert.match(e.message, message);
      return true;
    });
    assert.deepEqual(await readdir(paths.roots), roots, 'no root unpacked or left partial');
    await assert.rejects(readdir(paths.nextFile), /ENOENT/, 'nothing marked for the next boot');
    assert.deepEqual(
      (await readdir(paths.downloads)).filter((f) => f.endsWith('.tgz')),
      [],
      'the download is removed',
    );
  }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'stage-rootfs-sig-'));
    blobs = join(dir, 'blobs');
    await mkdir(blobs);
  });
  beforeEach(() => {
    base = join(dir, `base-${(n += 1)}`);
    paths = rootfsPaths(base);
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('without baked keys stages unsigned and signed roots alike (digests only)', async () => {
    const unsigned = await stage(await rootfsTgz({}));
    assert.equal(unsigned.already_staged, false);
    await rm(paths.nextFile);
    const signed = await stage(await rootfsTgz({ key: otherPair.privateKey, name: 'other-name' }));
    assert.equal(signed.already_staged, false);
  });

  it('with baked keys stages a root signed by one of them', async () => {
    await trust(otherPair.publicKey, trustedPair.publicKey);
    const result = await stage(await rootfsTgz({ key: trustedPair.privateKey }));
    assert.equal(result.staged_root, `/var/vcap/data/rootfs/roots/${result.sha256}`);
    assert.deepEqual(await readdir(paths.roots), [result.sha256]);
  });

  it('refuses a bit flipped in rootfs.MF', async () => {
    await trust(trustedPair.publicKey);
    const flip = (mf: Buffer) => {
      const copy = Buffer.from(mf);
      const at = copy.indexOf('version: "2"') + 10; // '2' (0x32) becomes '3' (0x33): still valid
      copy[at] = (copy[at] ?? 0) ^ 0x01;
      return copy;
    };
    await assertRefused(
      await rootfsTgz({ key: trustedPair.privateKey, tamper: flip }),
      new RegExp(
        `rootfs.MF.sig does not verify: rootfs.MF or install is not what key ${trustedFingerprint} signed`,
      ),
    );
  });

  it('refuses an install script other than the one signed (it would run as root)', async () => {
    await trust(trustedPair.publicKey);
    await assertRefused(
      await rootfsTgz({
        key: trustedPair.privateKey,
        swapInstall: `${BOOT_RECORD_INSTALL}echo owned > /tmp/owned\n`,
      }),
      /rootfs.MF.sig does not verify: rootfs.MF or install is not what key [0-9a-f]{64} signed/,
    );
  });

  it('refuses a signature by a key the root does not trust, naming it', async () => {
    await trust(trustedPair.publicKey);
    await assertRefused(
      await rootfsTgz({ key: otherPair.privateKey }),
      new RegExp(
        `is by key ${otherFingerprint}, which this VM's root does not trust \\(keys ${trustedFingerprint}\\)`,
      ),
    );
  });

  it('refuses a root without rootfs.MF.sig', async () => {
    await trust(trustedPair.publicKey);
    await assertRefused(
      await rootfsTgz({}),
      /rootfs.tgz has no rootfs.MF.sig, and this VM's root trusts only signed roots/,
    );
  });

  it('refuses a truncated rootfs.MF.sig', async () => {
    await trust(trustedPair.publicKey);
    await assertRefused(
      await rootfsTgz({ key: trustedPair.privateKey, mangle: (sig) => sig.subarray(0, sig.length - 20) }),
      /rootfs.MF.sig is malformed: signature: must be the base64 of a 64-byte Ed25519 signature/,
    );
  });

  it('checks the signature again when the same root is already unpacked', async () => {
    await trust(trustedPair.publicKey);
    const good = await stage(await rootfsTgz({ key: trustedPair.privateKey }));
    await rm(paths.nextFile);
    // Same root.tar (same roots/<sha256>), another rootfs.MF signed by nobody trusted.
    await assertRefused(
      await rootfsTgz({ key: otherPair.privateKey, name: 'same-root' }),
      new RegExp(`is by key ${otherFingerprint}`),
    );
    assert.deepEqual(await readdir(paths.roots), [good.sha256], 'the verified root stays');
  });

  it('fails closed on a trusted key file that is not an Ed25519 public key', async () => {
    await trust(trustedPair.publicKey);
    await writeFile(join(paths.local(ROOTFS_TRUSTED_KEYS_DIR), 'broken.pem'), 'not a key\n');
    await assert.rejects(
      stage(await rootfsTgz({ key: trustedPair.privateKey })),
      (e: Error & { code?: string }) => {
        assert.equal(e.code, AgentErrorCode.UntrustedRootfs);
        assert.match(e.message, /rootfs-trusted-keys\/broken.pem is not a public key/);
        return true;
      },
    );
  });
});
