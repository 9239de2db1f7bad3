// Rolling a reloaded VM back to the root it ran before: stage 1.1, stage 1.2, commit 1.2, then
// stage 1.1 again (allow_downgrade). The previous root is still complete on the ephemeral disk,
// so the agent stages it from the files it kept beside it: 0 bytes fetched, the blobstore never
// asked, the signature verified again from the kept bytes, install run again.
// A real DAV blob server on 127.0.0.1 counts requests; a temp dir is the agent's base.
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import {
  ROOTFS_SIGNATURE_FILE,
  ROOTFS_TRUSTED_KEYS_DIR,
  RootfsBootRecord,
  rootfsSignedMessage,
  type RootfsBootState,
  type UpdateRootfsResult,
} from '@refit/protocol';
import { davPath } from '../blobstore/dav-blob-source.ts';
import { commitBootedRoot, readBootState, rootfsPaths, type RootfsPaths } from './boot-state.ts';
import { keyFingerprint } from './rootfs-trust.ts';
import { stageRootfs } from './stage-rootfs.ts';
import { checkManifestVersion } from './version-order.ts';
import { BOOT_RECORD_INSTALL, tarOf } from '../testing/rootfs-tarballs.ts';

/** The usual install script, also counting its runs (a reuse must run install again). */
const INSTALL = BOOT_RECORD_INSTALL.replace('cat > ', 'echo run >> "$REFIT_BOOT_RECORD.installs"\ncat > ');

const sha256Of = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');

// Counts its runs in the root it installs, so a test sees install ran again.

describe('stageRootfs: rollback to the kept previous root', () => {
  const keys = generateKeyPairSync('ed25519');
  let dir: string;
  let server: Server;
  let port = 0;
  const blobs = new Map<string, Buffer>();
  const requests: string[] = [];
  let paths: RootfsPaths;
  let booted = '1.0';
  const log: string[] = [];

  async function rootfsTgz(version: string): Promise<Buffer> {
    const root = await tarOf([
      { name: './', body: '' },
      { name: './etc/', body: '' },
      { name: './etc/os-release', body: `VERSION_ID=${version}\n` },
      // Large enough that a download shows in bytes_fetched (random: gzip does not shrink it).
      { name: './payload', body: randomBytes(200_000) },
    ]);
    const mf = Buffer.from(
      stringify({
        name: 'refit-rollback',
        version,
        operating_system: 'os',
        api_version: 1,
        root_archive: { path: 'root.tar', sha256: sha256Of(root), size: root.length },
        install: 'install',
      }),
    );
    const sig = stringify({
      algorithm: 'ed25519',
      key_fingerprint: keyFingerprint(keys.publicKey),
      signature: sign(
        null,
        Buffer.from(rootfsSignedMessage(sha256Of(mf), sha256Of(INSTALL))),
        keys.privateKey,
      ).toString('base64'),
    });
    return gzipSync(
      await tarOf([
        { name: 'rootfs.MF', body: mf },
        { name: 'install', body: INSTALL, mode: 0o755 },
        { name: 'root.tar', body: root },
        { name: ROOTFS_SIGNATURE_FILE, body: sig },
      ]),
    );
  }

  const blob = new Map<string, { id: string; digest: string; size: number }>();
  async function put(version: string) {
    const bytes = await rootfsTgz(version);
    const id = `rootfs-${version}`;
    blobs.set(`/${davPath(id)}`, bytes);
    blob.set(version, { id, digest: `sha256:${sha256Of(bytes)}`, size: bytes.length });
  }

  function stage(version: string, options: { allowDowngrade?: boolean; rootSha256?: string } = {}) {
    const b = blob.get(version);
    assert.ok(b);
    const policy = { booted, declared: version, allowDowngrade: options.allowDowngrade === true };
    return stageRootfs({
      blobstoreId: b.id,
      digest: b.digest,
      blobstore: { provider: 'dav', options: { endpoint: `http://127.0.0.1:${port}` } },
      paths,
      installTimeoutMs: 30_000,
      checkVersion: (v) => checkManifestVersion(policy, v),
      ...(options.rootSha256 === undefined ? {} : { rootArchiveSha256: options.rootSha256 }),
      log: (line) => log.push(line),
      report: () => undefined,
      signal: AbortSignal.timeout(30_000),
    });
  }

  /** What the VM's boot step does with next.json, then the agent's commit once jobs run. */
  async function bootAndCommit(staged: UpdateRootfsResult): Promise<void> {
    const record = RootfsBootRecord.parse(JSON.parse(await readFile(paths.nextFile, 'utf8')));
    const state = await readBootState(paths);
    const root = {
      root: record.root,
      name: record.name,
      version: record.version,
      root_archive_sha256: record.root_archive_sha256,
    };
    const next: RootfsBootState = {
      format: 1,
      current: state?.current ?? { root: null, name: 'n', version: '1.0', root_archive_sha256: null },
      previous: state?.previous ?? null,
      pending: { ...root, attempts: 1, max_attempts: 2 },
      booted: { ...root, kind: 'pending', boot: 1, at: 'now' },
      abandoned: [],
      committed_at: null,
    };
    assert.equal(root.root, staged.staged_root);
    await writeFile(paths.stateFile, JSON.stringify(next));
    await rm(paths.nextFile);
    assert.equal(await commitBootedRoot(paths), 'committed');
    booted = record.version;
  }

  const installs = () =>
    readFile(`${paths.nextFile}.installs`, 'utf8').then((t) => t.split('\n').filter(Boolean).length);

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'stage-rootfs-rollback-'));
    server = createServer((req, res) => {
      requests.push(req.url ?? '');
      const body = blobs.get(req.url ?? '');
      if (body === undefined) res.writeHead(404).end();
      else res.writeHead(200, { 'content-length': body.length }).end(body);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const address = server.address();
    port = typeof address === 'object' && address ? address.port : 0;
    await put('1.1');
    await put('1.2');
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    await rm(dir, { recursive: true, force: true });
  });

  /** A fresh VM that trusts the signing key, on 1.0; stages 1.1 and 1.2, commits both. */
  async function reloadedTwice(name: string) {
    paths = rootfsPaths(join(dir, name));
    booted = '1.0';
    const keyDir = paths.local(ROOTFS_TRUSTED_KEYS_DIR);
    await mkdir(keyDir, { recursive: true });
    await writeFile(
      join(keyDir, `${keyFingerprint(keys.publicKey)}.pem`),
      keys.publicKey.export({ type: 'spki', format: 'pem' }),
    );
    const v1 = await stage('1.1');
    await bootAndCommit(v1);
    const v2 = await stage('1.2');
    await bootAndCommit(v2);
    const state = await readBootState(paths);
    assert.equal(state?.current.version, '1.2');
    assert.equal(state?.previous?.root, v1.staged_root, 'the 1.1 root is kept as previous');
    return { v1, v2 };
  }

  it('stages the previous root again with 0 bytes fetched and no blobstore request', async () => {
    const { v1 } = await reloadedTwice('vm-a');
    const before = await installs();
    requests.length = 0;
    const back = await stage('1.1', { allowDowngrade: true, rootSha256: v1.sha256 });
    console.log(
      `rollback to 1.1: bytes_fetched ${back.bytes_fetched} (full rootfs.tgz ${blob.get('1.1')?.size}), ${requests.length} blobstore requests`,
    );
    assert.equal(back.bytes_fetched, 0);
    assert.deepEqual(requests, [], 'the blobstore is never asked');
    assert.equal(back.staged_root, v1.staged_root, 'the kept root itself, not a copy');
    assert.equal(back.sha256, v1.sha256);
    assert.equal(back.version, '1.1');
    assert.equal(await installs(), before + 1, 'install ran again, from the kept bytes');
    const record = RootfsBootRecord.parse(JSON.parse(await readFile(paths.nextFile, 'utf8')));
    assert.equal(record.root, v1.staged_root, 'the next boot boots the previous root');
  });

  it('keeps the files of each root beside it and removes them with the root', async () => {
    const { v1, v2 } = await reloadedTwice('vm-b');
    const names = (p: string) => readdir(p).then((n) => n.sort());
    const rootNames = [v1.sha256, v2.sha256].sort();
    assert.deepEqual(await names(paths.roots), rootNames);
    assert.deepEqual(await names(paths.kept), rootNames);
    assert.deepEqual(await names(join(paths.kept, v1.sha256)), [
      'install',
      'rootfs.MF',
      ROOTFS_SIGNATURE_FILE,
      'source.json',
    ]);
    // Rollback to 1.1 booted and committed: 1.2 is now the previous root, and rolls forward free.
    booted = '1.2';
    await bootAndCommit(await stage('1.1', { allowDowngrade: true, rootSha256: v1.sha256 }));
    requests.length = 0;
    const forward = await stage('1.2');
    assert.equal(
      forward.bytes_fetched,
      0,
      'an older director (no root sha256) matches by the rootfs.tgz digest',
    );
    assert.equal(forward.reused_kept_root, true);
    assert.deepEqual(requests, []);
    await bootAndCommit(forward);
    // A third root committed: 1.1 is neither current nor previous, its root and kept files go.
    await put('1.3');
    await bootAndCommit(await stage('1.3'));
    assert.deepEqual(await names(paths.kept), await names(paths.roots));
    assert.ok(!(await names(paths.kept)).includes(v1.sha256));
  });

  it('refuses the rollback without allow_downgrade, before install and without a download', async () => {
    const { v1 } = await reloadedTwice('vm-c');
    const before = await installs();
    requests.length = 0;
    await assert.rejects(
      stage('1.1', { rootSha256: v1.sha256 }),
      /1\.1 is older than the booted stemcell 1\.2/,
    );
    assert.deepEqual(requests, []);
    assert.equal(await installs(), before);
  });

  it('a tampered kept rootfs.MF fails its signature: downloads instead, and keeps good files again', async () => {
    const { v1 } = await reloadedTwice('vm-d');
    const mfFile = join(paths.kept, v1.sha256, 'rootfs.MF');
    const good = await readFile(mfFile);
    // Same root sha256, another install path: still a valid manifest, not what was signed.
    await writeFile(mfFile, `${good.toString('utf8')}# changed\n`);
    log.length = 0;
    requests.length = 0;
    const back = await stage('1.1', { allowDowngrade: true, rootSha256: v1.sha256 });
    assert.equal(back.bytes_fetched, blob.get('1.1')?.size, 'the full rootfs.tgz, verified as any download');
    assert.equal(requests.length, 1);
    assert.notEqual(back.reused_kept_root, true);
    assert.equal(back.staged_root, v1.staged_root, 'the complete root is not unpacked again');
    assert.ok(
      log.some((l) => /kept signature does not verify/.test(l) && /downloading/.test(l)),
      log.join('\n'),
    );
    assert.deepEqual(await readFile(mfFile), good, 'the download wrote the verified bytes back');
  });

  it('kept files missing: downloads, and says why', async () => {
    const { v1 } = await reloadedTwice('vm-e');
    await rm(join(paths.kept, v1.sha256, ROOTFS_SIGNATURE_FILE));
    log.length = 0;
    const back = await stage('1.1', { allowDowngrade: true, rootSha256: v1.sha256 });
    assert.equal(back.bytes_fetched, blob.get('1.1')?.size);
    assert.ok(
      log.some((l) => /does not verify|missing/.test(l)),
      log.join('\n'),
    );
    await rm(join(paths.kept, v1.sha256), { recursive: true });
    await rm(paths.nextFile);
    log.length = 0;
    // Kept files gone altogether (a VM staged before this feature): a plain download.
    const again = await stage('1.1', { allowDowngrade: true, rootSha256: v1.sha256 });
    assert.ok(
      log.some((l) => /kept files are missing/.test(l)),
      log.join('\n'),
    );
    assert.equal(again.bytes_fetched, blob.get('1.1')?.size);
    assert.ok((await readdir(join(paths.kept, v1.sha256))).includes(ROOTFS_SIGNATURE_FILE), 'kept again');
  });

  it("finds the kept root by the director's root sha256 when the rootfs.tgz bytes differ", async () => {
    const { v1 } = await reloadedTwice('vm-f');
    // The same rootfs.MF, install, root.tar and signature, compressed again: another digest.
    const one = blob.get('1.1');
    assert.ok(one);
    const again = gzipSync(gunzipSync(blobs.get(`/${davPath(one.id)}`)!), { level: 1 });
    blobs.set(`/${davPath('rootfs-1.1-regz')}`, again);
    blob.set('1.1-regz', { id: 'rootfs-1.1-regz', digest: `sha256:${sha256Of(again)}`, size: again.length });
    assert.notEqual(blob.get('1.1-regz')?.digest, one.digest);
    const policy = { booted, declared: '1.1', allowDowngrade: true };
    const stageRegz = (rootSha256?: string) =>
      stageRootfs({
        blobstoreId: 'rootfs-1.1-regz',
        digest: `sha256:${sha256Of(again)}`,
        blobstore: { provider: 'dav', options: { endpoint: `http://127.0.0.1:${port}` } },
        paths,
        installTimeoutMs: 30_000,
        checkVersion: (v) => checkManifestVersion(policy, v),
        ...(rootSha256 === undefined ? {} : { rootArchiveSha256: rootSha256 }),
        report: () => undefined,
        signal: AbortSignal.timeout(30_000),
      });
    requests.length = 0;
    const named = await stageRegz(v1.sha256);
    assert.equal(named.bytes_fetched, 0);
    assert.deepEqual(requests, []);
    await rm(paths.nextFile);
    await rm(join(paths.downloads), { recursive: true });
    const unnamed = await stageRegz();
    assert.equal(
      unnamed.bytes_fetched,
      again.length,
      'without the root sha256: another artifact, downloaded',
    );
  });
});
