import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { lstat, readdir, readFile, readlink, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { RootfsBootRecord, type UpdateRootfsProgress, type UpdateRootfsResult } from '@refit/protocol';
import { commitBootedRoot, readBootState, rootfsPaths } from '../rootfs/boot-state.ts';
import { agentFixture, type AgentFixture } from '../testing/fixture.ts';
import { updateRootfs } from './update-rootfs.ts';
import { BOOT_RECORD_INSTALL, tarOf } from '../testing/rootfs-tarballs.ts';

async function rootfsTgz(
  version: string,
  opts: { lieAboutSha?: boolean; install?: string } = {},
): Promise<Buffer> {
  const root = await tarOf([
    { name: './', type: 'directory', mode: 0o755 },
    { name: './etc/', type: 'directory', mode: 0o755 },
    { name: './etc/os-release', body: `VERSION_ID=${version}\n` },
    { name: './sbin/', type: 'directory', mode: 0o755 },
    { name: './sbin/refit-init', mode: 0o755, body: '#!/bin/sh\n' },
    { name: './sbin/init-again', type: 'link', linkname: './sbin/refit-init' },
    { name: './init', type: 'symlink', linkname: 'sbin/refit-init' },
  ]);
  const sha = opts.lieAboutSha ? 'f'.repeat(64) : createHash('sha256').update(root).digest('hex');
  const mf = `name: refit-test\nversion: "${version}"\noperating_system: os\napi_version: 1\nroot_archive: {path: root.tar, sha256: ${sha}, size: ${root.length}}\ninstall: install\n`;
  return gzipSync(
    await tarOf([
      { name: 'rootfs.MF', body: mf },
      { name: 'install', mode: 0o755, body: opts.install ?? BOOT_RECORD_INSTALL },
      { name: 'root.tar', body: root },
    ]),
  );
}

describe('update_rootfs', () => {
  let f: AgentFixture;
  const progress: UpdateRootfsProgress[] = [];
  const put = async (id: string, bytes: Buffer) => {
    await writeFile(join(f.blobs, id), bytes);
    return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
  };
  const stage = (id: string, digest: string, options?: { force?: boolean }) => {
    const controller = new AbortController();
    const original = f.ctx.tasks.report.bind(f.ctx.tasks);
    f.ctx.tasks.report = (signal, p) => {
      if (signal === controller.signal) progress.push(p as UpdateRootfsProgress);
      original(signal, p);
    };
    return f.run<UpdateRootfsResult>(
      updateRootfs,
      options === undefined ? [id, digest] : [id, digest, options],
      controller.signal,
    );
  };
  const paths = () => rootfsPaths(f.base);

  before(async () => {
    f = await agentFixture();
  });
  after(() => f.close());

  it('stages a root: unpacked content-addressed with links kept, install run, progress reported', async () => {
    const bytes = await rootfsTgz('2');
    const digest = await put('rootfs-2', bytes);
    const result = await stage('rootfs-2', digest);
    assert.equal(result.version, '2');
    assert.equal(result.already_staged, false);
    assert.equal(result.staged_root, `/var/vcap/data/rootfs/roots/${result.sha256}`);
    const local = join(f.base, result.staged_root);
    assert.equal(await readFile(join(local, 'etc/os-release'), 'utf8'), 'VERSION_ID=2\n');
    assert.equal(await readlink(join(local, 'init')), 'sbin/refit-init');
    assert.equal(
      (await stat(join(local, 'sbin/init-again'))).ino,
      (await stat(join(local, 'sbin/refit-init'))).ino,
    );
    assert.equal((await lstat(join(local, 'sbin/refit-init'))).mode & 0o777, 0o755);
    const record = RootfsBootRecord.parse(JSON.parse(await readFile(paths().nextFile, 'utf8')));
    assert.equal(record.root, result.staged_root);
    assert.equal(record.root_archive_sha256, result.sha256);
    const phases = [...new Set(progress.map((p) => p.phase))];
    assert.deepEqual(phases, ['downloading', 'verifying', 'unpacking', 'installing', 'staged']);
    const downloaded = progress.filter((p) => p.phase === 'downloading').at(-1);
    assert.equal(downloaded?.bytes_done, bytes.length);
    const again = await stage('rootfs-2', digest);
    assert.equal(again.already_staged, true, 'a second staging is a no-op');
    assert.equal(again.bytes_fetched, 0);
  });

  it('refuses a wrong digest before unpacking anything', async () => {
    const before = await readdir(paths().roots);
    await put('rootfs-3', await rootfsTgz('3'));
    await assert.rejects(stage('rootfs-3', `sha256:${'0'.repeat(64)}`), /expected 0{64}/);
    assert.deepEqual(await readdir(paths().roots), before);
    assert.deepEqual(await readdir(paths().downloads).then((d) => d.filter((n) => n.endsWith('.tgz'))), []);
  });

  it('refuses a root.tar whose sha256 is not the one rootfs.MF names, leaving no root', async () => {
    const before = await readdir(paths().roots);
    const digest = await put('rootfs-4', await rootfsTgz('4', { lieAboutSha: true }));
    await assert.rejects(
      stage('rootfs-4', digest),
      /root\.tar sha256 is [0-9a-f]{64}, rootfs\.MF says f{64}/,
    );
    assert.deepEqual(await readdir(paths().roots), before);
  });

  it('removes the staged root when install fails and leaves the boot record alone', async () => {
    const next = await readFile(paths().nextFile, 'utf8');
    const roots = await readdir(paths().roots);
    const digest = await put(
      'rootfs-5',
      await rootfsTgz('5', { install: '#!/bin/sh\necho broken >&2\nexit 4\n' }),
    );
    await assert.rejects(stage('rootfs-5', digest), /install exited with status 4: broken/);
    assert.deepEqual(await readdir(paths().roots), roots);
    assert.equal(await readFile(paths().nextFile, 'utf8'), next, 'the earlier record still stands');
  });

  it('commits only a root that booted as pending, then collects older roots', async () => {
    assert.equal(await commitBootedRoot(paths()), 'nothing_pending');
    const [staged] = await readdir(paths().roots);
    assert.ok(staged);
    const root = `/var/vcap/data/rootfs/roots/${staged}`;
    const base = { root, name: 'refit-test', version: '2', root_archive_sha256: staged };
    const state = {
      format: 1,
      current: { root: null, name: 'n', version: '1', root_archive_sha256: null },
      previous: null,
      pending: { ...base, attempts: 1, max_attempts: 2 },
      booted: { ...base, kind: 'current', boot: 3, at: 'now' },
      abandoned: [],
      committed_at: null,
    };
    await writeFile(paths().stateFile, JSON.stringify(state));
    assert.equal(await commitBootedRoot(paths()), 'not_booted_from_pending');
    await writeFile(
      paths().stateFile,
      JSON.stringify({ ...state, booted: { ...state.booted, kind: 'pending' } }),
    );
    assert.equal(await commitBootedRoot(paths()), 'committed');
    const after = await readBootState(paths());
    assert.equal(after?.pending, null);
    assert.equal(after?.current.root, root);
    assert.equal(after?.previous?.version, '1');
    assert.deepEqual(await readdir(paths().roots), [staged]);
  });

  it('force restages the running root into a fresh directory, leaving the running one alone', async () => {
    // After the commit above: roots/<sha> runs as current; the boot step consumed next.json.
    await rm(paths().nextFile, { force: true });
    const digest = await put('rootfs-2', await rootfsTgz('2'));
    const plain = await stage('rootfs-2', digest);
    assert.equal(plain.already_staged, true, 'the running root is not staged again without force');
    const running = plain.staged_root;
    const marker = join(f.base, running, 'etc/drift');
    await writeFile(marker, 'drifted\n');

    const forced = await stage('rootfs-2', digest, { force: true });
    assert.equal(forced.already_staged, false);
    assert.equal(forced.sha256, plain.sha256);
    assert.equal(forced.staged_root, `${running}.1`);
    assert.ok(forced.bytes_fetched > 0, 'downloaded again');
    const fresh = join(f.base, forced.staged_root);
    assert.equal(await readFile(join(fresh, 'etc/os-release'), 'utf8'), 'VERSION_ID=2\n');
    await assert.rejects(stat(join(fresh, 'etc/drift')), /ENOENT/);
    assert.equal(await readFile(marker, 'utf8'), 'drifted\n', 'the running root is untouched');
    const record = RootfsBootRecord.parse(JSON.parse(await readFile(paths().nextFile, 'utf8')));
    assert.equal(record.root, forced.staged_root, 'the next boot boots the fresh copy');

    // Staged (next.json names it): a plain staging is a no-op that answers the fresh copy.
    const again = await stage('rootfs-2', digest);
    assert.equal(again.already_staged, true);
    assert.equal(again.staged_root, forced.staged_root);
    // A second force picks the next free name.
    const twice = await stage('rootfs-2', digest, { force: true });
    assert.equal(twice.staged_root, `${running}.2`);
  });
});
