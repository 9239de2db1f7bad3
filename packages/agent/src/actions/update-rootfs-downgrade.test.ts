// update_rootfs never stages a root older than the booted one unless allow_downgrade says so.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { UpdateRootfsOptions, UpdateRootfsResult } from '@refit/protocol';
import { rootfsPaths } from '../rootfs/boot-state.ts';
import { agentFixture, type AgentFixture } from '../testing/fixture.ts';
import { updateRootfs } from './update-rootfs.ts';
import { BOOT_RECORD_INSTALL, tarOf } from '../testing/rootfs-tarballs.ts';

async function rootfsTgz(version: string): Promise<Buffer> {
  const root = await tarOf([{ name: './etc/os-release', body: `VERSION_ID=${version}\n` }]);
  const sha = createHash('sha256').update(root).digest('hex');
  const mf = `name: refit-test\nversion: "${version}"\noperating_system: os\napi_version: 1\nroot_archive: {path: root.tar, sha256: ${sha}, size: ${root.length}}\ninstall: install\n`;
  return gzipSync(
    await tarOf([
      { name: 'rootfs.MF', body: mf },
      { name: 'install', mode: 0o755, body: BOOT_RECORD_INSTALL },
      { name: 'root.tar', body: root },
    ]),
  );
}

describe('update_rootfs: no downgrade without allow_downgrade', () => {
  let f: AgentFixture;
  const paths = () => rootfsPaths(f.base);
  const put = async (version: string) => {
    const bytes = await rootfsTgz(version);
    await writeFile(join(f.blobs, `rootfs-${version}`), bytes);
    return [`rootfs-${version}`, `sha256:${createHash('sha256').update(bytes).digest('hex')}`] as const;
  };
  const stage = (blob: readonly [string, string], options?: UpdateRootfsOptions) =>
    f.run<UpdateRootfsResult>(updateRootfs, options === undefined ? [...blob] : [...blob, options]);
  /** Everything staging leaves: roots, downloads, the boot record. */
  const leftovers = async () => [
    ...(await readdir(paths().roots).catch(() => [])).map((n) => `roots/${n}`),
    ...(await readdir(paths().downloads).catch(() => [])).map((n) => `downloads/${n}`),
    ...(await readdir(dirname(paths().nextFile)).catch(() => [])).map((n) => `boot/${n}`),
  ];

  before(async () => {
    f = await agentFixture();
  });
  after(() => f.close());
  beforeEach(async () => {
    // The running root says it is stemcell 1.2; nothing staged yet.
    await mkdir(dirname(f.ctx.paths.stemcellVersionFile), { recursive: true });
    await writeFile(f.ctx.paths.stemcellVersionFile, '1.2\n');
    await rm(join(f.base, 'var/vcap/data'), { recursive: true, force: true });
  });

  it('refuses an older version the director names before downloading anything', async () => {
    const blob = await put('1.1');
    await assert.rejects(stage(blob, { version: '1.1' }), (e: Error) => {
      assert.match(e.message, /stemcell 1\.1 is older than the booted stemcell 1\.2/);
      return true;
    });
    assert.deepEqual(await leftovers(), []);
  });

  it('refuses an older rootfs.MF (a replayed old rootfs) before unpacking or installing it', async () => {
    const blob = await put('1.1');
    await assert.rejects(stage(blob), /rootfs\.MF version 1\.1 is older than the booted stemcell 1\.2/);
    const left = await leftovers();
    assert.equal(left.filter((n) => !n.startsWith('downloads/')).length, 0, left.join(', '));
    // A rootfs.MF of another version than the director asked for is refused too.
    await assert.rejects(
      stage(blob, { version: '1.3' }),
      /rootfs\.MF says version 1\.1, the director asked for 1\.3/,
    );
    assert.equal((await leftovers()).filter((n) => !n.startsWith('downloads/')).length, 0);
  });

  it('refuses versions it cannot order against the booted one', async () => {
    await assert.rejects(
      stage(await put('1.x'), { version: '1.x' }),
      /1\.x cannot be ordered against the booted stemcell 1\.2/,
    );
    assert.deepEqual(await leftovers(), []);
  });

  it('stages an older root when allow_downgrade is set', async () => {
    const result = await stage(await put('1.1'), { version: '1.1', allow_downgrade: true });
    assert.equal(result.version, '1.1');
    assert.equal(result.already_staged, false);
    assert.ok((await leftovers()).includes(`roots/${result.sha256}`));
  });

  it('stages a newer root, and the same version again (a forced repair)', async () => {
    const newer = await stage(await put('1.10'), { version: '1.10' });
    assert.equal(newer.version, '1.10');
    const same = await stage(await put('1.2'), { version: '1.2', force: true });
    assert.equal(same.version, '1.2');
  });

  it('does not compare when the running root names no version', async () => {
    await rm(f.ctx.paths.stemcellVersionFile);
    const result = await stage(await put('1.1'), { version: '1.1' });
    assert.equal(result.version, '1.1');
  });
});
