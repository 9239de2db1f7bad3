import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { makeTarball } from '../testing/make-tarball.ts';
import { ArchiveError, readTarMember } from './read-tar-member.ts';

describe('readTarMember', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'refit-cli-tar-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads a member of a gzipped tarball, with or without ./', async () => {
    const path = join(dir, 's.tgz');
    await makeTarball(path, [
      { name: './stemcell.MF', content: 'name: s\nversion: 1\n' },
      { name: 'image', content: Buffer.alloc(64 * 1024) },
    ]);
    assert.equal(await readTarMember(path, 'stemcell.MF'), 'name: s\nversion: 1\n');
  });

  it('reads a plain tar too, and stops at the member without reading the rest', async () => {
    const path = join(dir, 'plain.tar');
    await makeTarball(
      path,
      [
        { name: 'rootfs.MF', content: 'x' },
        { name: 'root.tar', content: Buffer.alloc(1024) },
      ],
      {
        gzip: false,
      },
    );
    assert.equal(await readTarMember(path, 'rootfs.MF'), 'x');
  });

  it('says what is wrong: missing member, truncated gzip, not a file', async () => {
    const path = join(dir, 'none.tgz');
    await makeTarball(path, [{ name: 'image', content: 'i' }]);
    await assert.rejects(
      readTarMember(path, 'stemcell.MF'),
      (e: unknown) => e instanceof ArchiveError && /has no 'stemcell.MF'/.test(e.message),
    );

    const truncated = join(dir, 'truncated.tgz');
    const whole = join(dir, 'whole.tgz');
    await makeTarball(whole, [
      { name: 'image', content: Buffer.alloc(200_000, 7) },
      { name: 'stemcell.MF', content: 'm' },
    ]);
    const bytes = await readFile(whole);
    await writeFile(truncated, bytes.subarray(0, Math.floor(bytes.length / 2)));
    await assert.rejects(readTarMember(truncated, 'stemcell.MF'), /unexpected end of file/);

    await assert.rejects(readTarMember(join(dir, 'missing.tgz'), 'stemcell.MF'), /Opening/);
  });
});
