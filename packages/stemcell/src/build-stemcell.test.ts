import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { link, mkdir, mkdtemp, readFile, rm, symlink, writeFile, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { parse } from 'yaml';
import { RootfsBootRecord, RootfsManifest, StemcellManifest } from '@refit/protocol';
import { buildStemcell, type BuildOptions, type BuildResult } from './build-stemcell.ts';
import { readTarball } from './read-tarball.test-support.ts';

const here = dirname(fileURLToPath(import.meta.url));
const fakeAgent = join(here, 'fixtures/fake-agent.ts');

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

async function fixtureRoot(dir: string): Promise<void> {
  await mkdir(join(dir, 'etc'), { recursive: true });
  await mkdir(join(dir, 'usr/bin'), { recursive: true });
  await mkdir(join(dir, 'usr/sbin'), { recursive: true });
  await symlink('usr/sbin', join(dir, 'sbin')); // merged /usr, as Debian bookworm has it
  await mkdir(join(dir, 'srv/private'), { recursive: true });
  await chmod(join(dir, 'srv/private'), 0o700);
  await writeFile(join(dir, 'etc/hostname'), 'fixture\n');
  await writeFile(join(dir, 'usr/bin/tool'), '#!/bin/sh\necho tool\n');
  await chmod(join(dir, 'usr/bin/tool'), 0o4755);
  await link(join(dir, 'usr/bin/tool'), join(dir, 'usr/bin/tool-alias'));
  await symlink('tool', join(dir, 'usr/bin/tool-link'));
  await symlink('/etc/hostname', join(dir, 'etc/hostname-abs'));
  execFileSync('mkfifo', [join(dir, 'srv/fifo')]);
}

function options(out: string, root: BuildOptions['root']): BuildOptions {
  return {
    name: 'refit-fixture',
    version: '7.1',
    operatingSystem: 'refit-test',
    outDir: out,
    root,
    agentEntry: fakeAgent,
    stemcellFormat: 'refit-local-tgz',
    compressionLevel: 1,
    mtime: new Date(0),
  };
}

describe('buildStemcell from a given root tree', () => {
  let work: string;
  let first: BuildResult;
  let second: BuildResult;

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'stemcell-build-'));
    await fixtureRoot(join(work, 'tree'));
    first = await buildStemcell(options(join(work, 'out1'), { kind: 'tree', path: join(work, 'tree') }));
    second = await buildStemcell(options(join(work, 'out2'), { kind: 'tree', path: join(work, 'tree') }));
  });
  after(async () => {
    await rm(work, { recursive: true, force: true });
  });

  it('writes rootfs.tgz with a valid rootfs.MF whose digest matches root.tar', async () => {
    const members = await readTarball(first.rootfs.path, { gzip: true });
    assert.deepEqual([...members.keys()], ['rootfs.MF', 'install', 'root.tar']);
    const manifest = RootfsManifest.parse(parse(members.get('rootfs.MF')?.content?.toString() ?? ''));
    const rootTar = members.get('root.tar');
    assert.equal(manifest.root_archive.sha256, rootTar?.sha256);
    assert.equal(manifest.root_archive.size, rootTar?.header.size);
    assert.equal(manifest.version, '7.1');
    assert.equal(manifest.install, 'install');
    assert.equal(members.get('install')?.header.mode, 0o755);
    assert.equal(first.root_archive.sha256, rootTar?.sha256);
  });

  it('keeps modes, links, hard links and special files in root.tar, and adds the refit layer', async () => {
    const members = await readTarball(first.rootfs.path, { gzip: true });
    const rootTar = members.get('root.tar')?.content;
    assert.ok(rootTar);
    const { Readable } = await import('node:stream');
    const entries = await readTarball(Readable.from([rootTar]), { gzip: false });
    assert.equal(entries.get('./usr/bin/tool')?.header.mode, 0o4755);
    assert.equal(entries.get('./usr/bin/tool-alias')?.header.type, 'link');
    assert.equal(entries.get('./usr/bin/tool-alias')?.header.linkname, './usr/bin/tool');
    assert.equal(entries.get('./usr/bin/tool-link')?.header.linkname, 'tool');
    assert.equal(entries.get('./etc/hostname-abs')?.header.linkname, '/etc/hostname');
    assert.equal(entries.get('./srv/fifo')?.header.type, 'fifo');
    assert.equal(entries.get('./srv/private/')?.header.mode, 0o700);
    assert.equal(entries.get('./var/vcap/bosh/etc/stemcell_version')?.content?.toString(), '7.1\n');
    assert.equal(entries.get('./var/vcap/bosh/etc/stemcell_name')?.content?.toString(), 'refit-fixture\n');
    assert.equal(entries.get('./sbin')?.header.linkname, 'usr/sbin', "the tree's own symlink is kept");
    assert.equal(entries.get('./usr/sbin/refit-init')?.header.mode, 0o755, 'the init lands through it');
    assert.ok(entries.has('./var/vcap/bosh/lib/refit-agent.mjs'));
    assert.equal(entries.has('./etc/os-release'), false, 'a given tree keeps its own os-release');
    const names = [...entries.keys()];
    assert.equal(names[0], './');
    assert.ok(names.indexOf('./usr/') < names.indexOf('./usr/bin/tool'), 'a directory precedes its children');
  });

  it('writes stemcell.tgz whose stemcell.MF names the image by sha1 and whose image is the same tree', async () => {
    const members = await readTarball(first.stemcell.path, { gzip: true });
    assert.deepEqual([...members.keys()], ['stemcell.MF', 'image']);
    const manifest = StemcellManifest.parse(parse(members.get('stemcell.MF')?.content?.toString() ?? ''));
    const image = members.get('image');
    assert.equal(manifest.sha1, image?.sha1);
    assert.equal(manifest.version, '7.1');
    assert.equal(manifest.operating_system, 'refit-test');
    assert.deepEqual(manifest.stemcell_formats, ['refit-local-tgz']);
    assert.ok(image?.content);
    assert.equal(sha256(gunzipSync(image.content)), first.root_archive.sha256);
  });

  it('reports the digests of both artifacts on stdout data and in digests.json', async () => {
    const written = JSON.parse(await readFile(join(work, 'out1/digests.json'), 'utf8')) as BuildResult;
    assert.deepEqual(written, JSON.parse(JSON.stringify(first)));
    for (const artifact of [first.stemcell, first.rootfs]) {
      const bytes = await readFile(artifact.path);
      assert.equal(createHash('sha1').update(bytes).digest('hex'), artifact.sha1);
      assert.equal(sha256(bytes), artifact.sha256);
      assert.equal(bytes.length, artifact.size);
    }
  });

  it('gives the same bytes for the same tree', () => {
    assert.equal(second.root_archive.sha256, first.root_archive.sha256);
    assert.equal(second.rootfs.sha256, first.rootfs.sha256);
    assert.equal(second.stemcell.sha1, first.stemcell.sha1);
  });

  it('refuses a device file outside /dev and leaves no output behind', async (t) => {
    if (process.getuid?.() !== 0) return t.skip('mknod needs root (CI runs as root)');
    const tree = join(work, 'bad-tree');
    await mkdir(join(tree, 'etc'), { recursive: true });
    execFileSync('mknod', [join(tree, 'etc/null'), 'c', '1', '3']);
    await assert.rejects(
      buildStemcell(options(join(work, 'out-bad'), { kind: 'tree', path: tree })),
      /outside \/dev/,
    );
    const { readdir } = await import('node:fs/promises');
    assert.deepEqual(await readdir(join(work, 'out-bad')), []);
  });
});

describe('buildStemcell --base minimal', () => {
  let work: string;
  let result: BuildResult;
  let root: string;

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'stemcell-minimal-'));
    result = await buildStemcell(
      options(join(work, 'out'), {
        kind: 'minimal',
        busybox: '/bin/busybox',
        node: resolve(here, '../../../node_modules/node/bin/node'),
      }),
    );
    root = join(work, 'root');
    await mkdir(root);
    execFileSync('sh', ['-c', `tar -xzOf "$1" root.tar > "$2/root.tar"`, 'sh', result.rootfs.path, work]);
    execFileSync('tar', ['-xpf', join(work, 'root.tar'), '-C', root]);
  });
  after(async () => {
    await rm(work, { recursive: true, force: true });
  });

  it('holds busybox with its applets, node and its libraries, the agent, the init and the version files', async () => {
    const entries = await readTarball(join(work, 'root.tar'), { gzip: false });
    assert.equal(entries.get('./bin/busybox')?.header.mode, 0o755);
    assert.equal(entries.get('./bin/sh')?.header.linkname, 'busybox');
    assert.equal(entries.get('./sbin/reboot')?.header.linkname, '../bin/busybox');
    assert.ok(entries.has('./usr/local/bin/node'));
    assert.ok(entries.has('./lib64/ld-linux-x86-64.so.2'));
    assert.ok(entries.has('./var/vcap/bosh/lib/refit-agent.mjs'));
    assert.ok(entries.has('./sbin/refit-init'));
    for (const dir of ['bosh', 'data', 'store', 'jobs', 'packages', 'sys/log']) {
      assert.equal(entries.get(`./var/vcap/${dir}/`)?.header.type, 'directory', dir);
    }
    assert.equal(entries.get('./tmp/')?.header.mode, 0o1777);
    const osRelease = entries.get('./etc/os-release')?.content?.toString() ?? '';
    assert.match(osRelease, /^VERSION_ID="7\.1"$/m);
    assert.match(osRelease, /^ID=refit-test$/m);
    assert.match(osRelease, /^NAME=/m);
    assert.match(osRelease, /^PRETTY_NAME=/m);
    assert.match(entries.get('./etc/passwd')?.content?.toString() ?? '', /^vcap:x:1000:1000:/m);
    assert.match(entries.get('./etc/group')?.content?.toString() ?? '', /^vcap:x:1000:/m);
  });

  it('runs node and the agent command inside the root with a cleared environment', (t) => {
    if (process.getuid?.() !== 0) return t.skip('chroot needs root (CI runs as root)');
    const out = execFileSync(
      '/usr/sbin/chroot',
      [
        root,
        '/bin/sh',
        '-c',
        '/usr/local/bin/node -p process.versions.node && /var/vcap/bosh/bin/refit-agent --settings /s.json',
      ],
      { env: {}, encoding: 'utf8' },
    );
    assert.match(out, /^24\.\d+\.\d+\nfake-agent --settings \/s\.json\n$/);
  });

  it('has an install script that records the staged root for the next boot', async () => {
    const record = join(work, 'boot/next.json');
    const install = join(work, 'install');
    execFileSync('sh', ['-c', `tar -xzOf "$1" install > "$2"`, 'sh', result.rootfs.path, install]);
    execFileSync('sh', [install, root], { env: { PATH: '/usr/bin:/bin', REFIT_BOOT_RECORD: record } });
    const next = RootfsBootRecord.parse(JSON.parse(await readFile(record, 'utf8')));
    assert.equal(next.root, root);
    assert.equal(next.version, '7.1');
    assert.equal(next.name, 'refit-fixture');
    assert.equal(next.init, '/sbin/refit-init');
    assert.equal(next.root_archive_sha256, result.root_archive.sha256);
    assert.throws(
      () =>
        execFileSync('sh', [install, 'relative/dir'], { env: { REFIT_BOOT_RECORD: record }, stdio: 'pipe' }),
      /absolute/,
    );
    assert.throws(
      () => execFileSync('sh', [install, work], { env: { REFIT_BOOT_RECORD: record }, stdio: 'pipe' }),
      /does not hold/,
    );
  });
});
