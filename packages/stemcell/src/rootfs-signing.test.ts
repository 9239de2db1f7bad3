import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash, createPublicKey, verify } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { parse } from 'yaml';
import { ROOTFS_SIGNATURE_FILE, RootfsSignature, rootfsSignedMessage } from '@refit/protocol';
import { buildStemcell, type BuildOptions, type BuildResult } from './build-stemcell.ts';
import { readTarball } from './read-tarball.test-support.ts';
import { generateSigningKey, keyFingerprint } from './rootfs-signing.ts';

const here = dirname(fileURLToPath(import.meta.url));
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

describe('signed rootfs.tgz', () => {
  let work: string;
  let keys: Awaited<ReturnType<typeof generateSigningKey>>;
  let other: Awaited<ReturnType<typeof generateSigningKey>>;
  let signed: BuildResult;
  let again: BuildResult;
  const options = (out: string, extra: Partial<BuildOptions>): BuildOptions => ({
    name: 'refit-signed',
    version: '3',
    operatingSystem: 'refit-test',
    outDir: join(work, out),
    root: { kind: 'tree', path: join(work, 'tree') },
    agentEntry: join(here, 'fixtures/fake-agent.ts'),
    stemcellFormat: 'refit-local-tgz',
    compressionLevel: 1,
    mtime: new Date(0),
    ...extra,
  });

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'stemcell-signing-'));
    await mkdir(join(work, 'tree/etc'), { recursive: true });
    await writeFile(join(work, 'tree/etc/motd'), 'signed\n');
    keys = await generateSigningKey(join(work, 'keys'));
    other = await generateSigningKey(join(work, 'other'));
    const signing = { signingKey: keys.private_key, trustKeys: [keys.public_key, other.public_key] };
    signed = await buildStemcell(options('out1', signing));
    again = await buildStemcell(options('out2', signing));
  });
  after(() => rm(work, { recursive: true, force: true }));

  it('keygen writes an Ed25519 pair, the private key 0600, and never overwrites it', async () => {
    assert.equal((await stat(keys.private_key)).mode & 0o777, 0o600);
    assert.match(await readFile(keys.private_key, 'utf8'), /^-----BEGIN PRIVATE KEY-----\n/);
    const pub = createPublicKey(await readFile(keys.public_key));
    assert.equal(pub.asymmetricKeyType, 'ed25519');
    const der = pub.export({ type: 'spki', format: 'der' });
    assert.equal(keys.key_fingerprint, createHash('sha256').update(der).digest('hex'));
    assert.notEqual(keys.key_fingerprint, other.key_fingerprint);
    await assert.rejects(generateSigningKey(join(work, 'keys')), /EEXIST/);
  });

  it('adds rootfs.MF.sig last, an Ed25519 signature over the digests of rootfs.MF and install', async () => {
    const members = await readTarball(signed.rootfs.path, { gzip: true });
    assert.deepEqual([...members.keys()], ['rootfs.MF', 'install', 'root.tar', ROOTFS_SIGNATURE_FILE]);
    const mf = members.get('rootfs.MF')?.content;
    const install = members.get('install')?.content;
    const sig = RootfsSignature.parse(parse(members.get(ROOTFS_SIGNATURE_FILE)?.content?.toString() ?? ''));
    assert.ok(mf && install);
    assert.equal(sig.key_fingerprint, keys.key_fingerprint);
    assert.equal(signed.rootfs_signed_by, keys.key_fingerprint);
    const message = (m: Buffer, i: Buffer) => Buffer.from(rootfsSignedMessage(sha256(m), sha256(i)));
    const pub = createPublicKey(await readFile(keys.public_key));
    const signature = Buffer.from(sig.signature, 'base64');
    assert.equal(verify(null, message(mf, install), pub, signature), true);
    const flipped = Buffer.from(mf);
    flipped[10] = (flipped[10] ?? 0) ^ 0x01;
    assert.equal(
      verify(null, message(flipped, install), pub, signature),
      false,
      'a flipped bit in rootfs.MF',
    );
    const script = Buffer.concat([install, Buffer.from('rm -rf /\n')]);
    assert.equal(verify(null, message(mf, script), pub, signature), false, 'another install script');
    const otherPub = createPublicKey(await readFile(other.public_key));
    assert.equal(verify(null, message(mf, install), otherPub, signature), false, 'another key');
  });

  it('bakes the trusted public keys into the root under their fingerprints', async () => {
    const members = await readTarball(signed.rootfs.path, { gzip: true });
    const rootTar = members.get('root.tar')?.content;
    assert.ok(rootTar);
    const entries = await readTarball(Readable.from([rootTar]), { gzip: false });
    for (const pair of [keys, other]) {
      const baked = entries.get(`./var/vcap/bosh/etc/rootfs-trusted-keys/${pair.key_fingerprint}.pem`);
      assert.equal(baked?.header.mode, 0o644);
      assert.equal(keyFingerprint(createPublicKey(baked?.content ?? '')), pair.key_fingerprint);
    }
    assert.deepEqual(signed.trusted_keys, [keys.key_fingerprint, other.key_fingerprint]);
  });

  it('gives the same bytes for the same inputs, signature included', () => {
    assert.equal(again.rootfs.sha256, signed.rootfs.sha256);
    assert.equal(again.stemcell.sha256, signed.stemcell.sha256);
  });

  it('builds without a signature or keys as before, and refuses a key that is not Ed25519', async () => {
    const plain = await buildStemcell(options('out3', {}));
    const members = await readTarball(plain.rootfs.path, { gzip: true });
    assert.deepEqual([...members.keys()], ['rootfs.MF', 'install', 'root.tar']);
    assert.equal(plain.rootfs_signed_by, undefined);
    const { generateKeyPairSync } = await import('node:crypto');
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    await writeFile(join(work, 'ec.pem'), ec.privateKey.export({ type: 'pkcs8', format: 'pem' }));
    await assert.rejects(
      buildStemcell(options('out4', { signingKey: join(work, 'ec.pem') })),
      /ec\.pem: an Ed25519 key is required, this is ec/,
    );
    await assert.rejects(
      buildStemcell(options('out4', { trustKeys: [join(work, 'tree/etc/motd')] })),
      /motd: not a public key/,
    );
  });

  it('keygen and build --signing-key --trust-key work from the command line', async () => {
    const bin = join(here, '../bin/refit-stemcell');
    const env = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' };
    const gen = spawnSync(bin, ['keygen', '--out', join(work, 'cli-keys')], { encoding: 'utf8', env });
    assert.equal(gen.status, 0, gen.stderr);
    const made = JSON.parse(gen.stdout) as {
      private_key: string;
      public_key: string;
      key_fingerprint: string;
    };
    assert.equal((await stat(made.private_key)).mode & 0o777, 0o600);
    const build = spawnSync(
      bin,
      [
        'build',
        ...['--name', 'cli', '--version', '1', '--os', 'o', '--out', join(work, 'cli-out')],
        ...['--root', join(work, 'tree'), '--agent-entry', join(here, 'fixtures/fake-agent.ts')],
        ...[
          '--signing-key',
          made.private_key,
          '--trust-key',
          made.public_key,
          '--trust-key',
          other.public_key,
        ],
      ],
      { encoding: 'utf8', env },
    );
    assert.equal(build.status, 0, build.stderr);
    const result = JSON.parse(build.stdout) as BuildResult;
    assert.equal(result.rootfs_signed_by, made.key_fingerprint);
    assert.deepEqual(result.trusted_keys, [made.key_fingerprint, other.key_fingerprint]);
    const noOut = spawnSync(bin, ['keygen'], { encoding: 'utf8', env });
    assert.equal(noOut.status, 2);
    assert.match(noOut.stderr, /--out is required/);
  });
});
