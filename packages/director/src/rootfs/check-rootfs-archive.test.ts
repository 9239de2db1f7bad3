import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { LocalDirBlobstore } from '../blobstore/local-dir-blobstore.ts';
import { RootfsDigestDoesNotMatch, RootfsInvalidArchive, ValidationMissingField } from '../errors.ts';
import {
  file,
  rootfsTgz,
  saneRoot,
  sha256,
  type RootfsOptions,
} from '../stemcells/upload-fixtures.test-support.ts';
import { readRootfsManifest, verifyAndStoreRootfs } from './check-rootfs-archive.ts';

describe('rootfs archive checks', () => {
  let dir: string;
  let blobstore: LocalDirBlobstore;
  let n = 0;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'refit-rootfs-check-'));
    blobstore = new LocalDirBlobstore(join(dir, 'blobs'));
    await blobstore.start();
  });
  after(() => rm(dir, { recursive: true, force: true }));

  async function upload(options: RootfsOptions | Buffer) {
    const path = join(dir, `rootfs-${(n += 1)}.tgz`);
    const bytes = Buffer.isBuffer(options) ? options : await rootfsTgz(options);
    await writeFile(path, bytes);
    const signal = AbortSignal.timeout(10_000);
    const manifest = await readRootfsManifest(path, signal);
    const blob = await verifyAndStoreRootfs({
      archive: path,
      manifest,
      blobstore,
      signal,
      isReferenced: () => Promise.resolve(false),
    });
    return { blob, bytes, manifest };
  }
  const blobs = async () => {
    const ids: string[] = [];
    for await (const id of blobstore.list()) ids.push(id);
    return ids;
  };
  const incoming = () => readdir(join(dir, 'blobs', '.incoming'));

  it('stores a sane rootfs whole, its blob id the sha256 of rootfs.tgz', async () => {
    const { blob, bytes, manifest } = await upload({ version: '7' });
    assert.equal(manifest.version, '7');
    assert.equal(blob.sha256, sha256(bytes));
    assert.equal(blob.size, bytes.length);
    assert.deepEqual(await blobs(), [blob.id]);
    await blobstore.delete(blob.id);
  });

  const refused: [string, RootfsOptions, RegExp][] = [
    [
      'an absolute path',
      { root: [...saneRoot, file('/etc/shadow', 'x')] },
      /entry '\/etc\/shadow' has an absolute path/,
    ],
    ['a .. component', { root: [file('etc/../../escape', 'x')] }, /has a '\.\.' component/],
    [
      'a symlink out of the tree',
      { root: [{ header: { name: 'etc/evil', type: 'symlink', linkname: '../../../etc/passwd' } }] },
      /is a symlink to '..\/..\/..\/etc\/passwd', outside the archive/,
    ],
    [
      'a device outside dev/',
      {
        root: [{ header: { name: 'tmp/sda', type: 'block-device', mode: 0o600, devmajor: 8, devminor: 0 } }],
      },
      /is a block-device outside dev\//,
    ],
    [
      'a missing install script',
      { install: null },
      /Install script 'install' named in rootfs.MF is not in the archive/,
    ],
    [
      'an install script that is a symlink',
      { install: { header: { name: 'install', type: 'symlink', linkname: 'root.tar' } } },
      /Install script 'install' is a symlink, not a regular file/,
    ],
    [
      'a missing root archive',
      { manifest: { root_archive: { path: 'other.tar', sha256: 'a'.repeat(64) } } },
      /not in the archive/,
    ],
  ];
  for (const [what, options, message] of refused) {
    it(`refuses ${what} and leaves no blob`, async () => {
      await assert.rejects(
        upload(options),
        (e: unknown) => e instanceof RootfsInvalidArchive && message.test(e.message),
      );
      assert.deepEqual(await blobs(), []);
      assert.deepEqual(await incoming(), []);
    });
  }

  it('refuses a root archive whose sha256 differs from rootfs.MF', async () => {
    await assert.rejects(
      upload({ manifest: { root_archive: { path: 'root.tar', sha256: 'b'.repeat(64) } } }),
      (e: unknown) =>
        e instanceof RootfsDigestDoesNotMatch &&
        /has sha256 '[0-9a-f]{64}', rootfs.MF says 'b{64}'/.test(e.message),
    );
    assert.deepEqual(await blobs(), []);
  });

  it('refuses a truncated gzip, a missing manifest and missing fields', async () => {
    const good = await rootfsTgz();
    await assert.rejects(upload(good.subarray(0, good.length - 40)), /truncated|unexpected end/);
    await assert.rejects(upload({ withoutManifest: true }), /Rootfs archive has no rootfs.MF/);
    await assert.rejects(
      upload({ manifest: { operating_system: null } }),
      (e: unknown) =>
        e instanceof ValidationMissingField && /'operating_system' was not specified/.test(e.message),
    );
    assert.deepEqual(await blobs(), []);
    assert.deepEqual(await incoming(), []);
  });

  it('keeps a blob that a saved rootfs shares when a check fails', async () => {
    const { blob } = await upload({ version: 'shared' });
    const path = join(dir, 'same.tgz');
    const bytes = await rootfsTgz({ version: 'shared' });
    await writeFile(path, bytes);
    const manifest = await readRootfsManifest(path, AbortSignal.timeout(5000));
    await assert.rejects(
      verifyAndStoreRootfs({
        archive: path,
        manifest: { ...manifest, install: 'elsewhere' },
        blobstore,
        signal: AbortSignal.timeout(5000),
        isReferenced: (id) => Promise.resolve(id === blob.id),
      }),
      /Install script 'elsewhere'/,
    );
    assert.deepEqual(await blobs(), [blob.id]);
    await blobstore.delete(blob.id);
  });
});
