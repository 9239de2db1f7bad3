import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import {
  lstat,
  mkdir,
  mkdtemp,
  readFile,
  readdir,
  readlink,
  rm,
  stat,
  symlink,
  writeFile,
  link,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { ArchiveError, ArchiveErrorCode } from './archive-error.ts';
import { extractTar, type ExtractProgress } from './extract-tar.ts';
import { buildTar, patchHeader } from './testing/build-tar.ts';

const run = promisify(execFile);
const asRoot = process.getuid?.() === 0;
const mtime = new Date('2023-11-14T22:13:20Z');

async function archiveErrorOf(promise: Promise<unknown>): Promise<ArchiveError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  assert.ok(error instanceof ArchiveError, `expected an ArchiveError, got ${String(error)}`);
  return error;
}

describe('extractTar', () => {
  let root: string;
  let count = 0;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'refit-extract-'));
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });
  const dest = () => join(root, `dest-${++count}`);

  it('writes files, directories, symlinks and hard links with modes and mtimes', async () => {
    const tgz = await buildTar(
      [
        { name: './', type: 'directory', mode: 0o755 },
        { name: './bin/', type: 'directory', mode: 0o750 },
        { name: './bin/tool', content: '#!/bin/sh\n', mode: 0o755 },
        { name: './etc/shadow', content: 'secret', mode: 0o640 },
        { name: './bin/alias', type: 'symlink', linkname: 'tool' },
        { name: './usr/bin/abs', type: 'symlink', linkname: '/bin/tool' },
        { name: './bin/hard', type: 'link', linkname: './bin/tool' },
        { name: './ro/', type: 'directory', mode: 0o555 },
        { name: './ro/inside', content: 'in a read-only dir', mode: 0o444 },
      ],
      { gzip: true },
    );
    const dir = dest();
    const progress: ExtractProgress[] = [];
    const result = await extractTar(Readable.from([tgz]), dir, { onProgress: (p) => progress.push(p) });
    assert.deepEqual(result, { entries: 9, fileBytes: 10 + 6 + 18, sourceBytes: tgz.length });
    assert.equal(progress.at(-1)?.sourceBytes, tgz.length);
    assert.equal(progress.at(-1)?.entries, 9);

    assert.equal(await readFile(join(dir, 'bin/tool'), 'utf8'), '#!/bin/sh\n');
    assert.equal((await stat(join(dir, 'bin/tool'))).mode & 0o7777, 0o755);
    assert.equal((await stat(join(dir, 'etc/shadow'))).mode & 0o7777, 0o640);
    assert.equal((await stat(join(dir, 'bin'))).mode & 0o7777, 0o750);
    assert.equal((await stat(join(dir, 'ro'))).mode & 0o7777, 0o555);
    assert.equal(await readFile(join(dir, 'ro/inside'), 'utf8'), 'in a read-only dir');
    assert.equal((await stat(join(dir, 'etc'))).mode & 0o7777, 0o755); // implied parent
    assert.equal((await stat(join(dir, 'bin/tool'))).mtime.getTime(), mtime.getTime());
    assert.equal((await stat(join(dir, 'bin'))).mtime.getTime(), mtime.getTime());
    assert.equal(await readlink(join(dir, 'bin/alias')), 'tool');
    assert.equal(await readlink(join(dir, 'usr/bin/abs')), '/bin/tool');
    assert.equal((await lstat(join(dir, 'bin/alias'))).mtime.getTime(), mtime.getTime());
    assert.equal((await stat(join(dir, 'bin/hard'))).ino, (await stat(join(dir, 'bin/tool'))).ino);
  });

  it('keeps setuid bits and owners when running as root', { skip: !asRoot && 'needs root' }, async () => {
    const tar = await buildTar([
      { name: 'su', content: 'x', mode: 0o4755, uid: 1234, gid: 2345 },
      { name: 'd/', type: 'directory', mode: 0o2775, uid: 1234, gid: 2345 },
      { name: 'l', type: 'symlink', linkname: 'su', uid: 1234, gid: 2345 },
    ]);
    const dir = dest();
    await extractTar(Readable.from([tar]), dir);
    const su = await stat(join(dir, 'su'));
    assert.equal(su.mode & 0o7777, 0o4755);
    assert.deepEqual([su.uid, su.gid], [1234, 2345]);
    const d = await stat(join(dir, 'd'));
    assert.equal(d.mode & 0o7777, 0o2775);
    assert.deepEqual([d.uid, d.gid], [1234, 2345]);
    const l = await lstat(join(dir, 'l'));
    assert.deepEqual([l.uid, l.gid], [1234, 2345]);
  });

  it(
    'creates device nodes under dev/ when allowed (as root), fifos anyway',
    { skip: !asRoot && 'needs root' },
    async () => {
      const tar = await buildTar([
        { name: 'dev/null', type: 'character-device', devmajor: 1, devminor: 3, mode: 0o666 },
        { name: 'dev/initctl', type: 'fifo', mode: 0o600 },
      ]);
      const dir = dest();
      await extractTar(Readable.from([tar]), dir, { allowDevicesUnder: 'dev' });
      const devNull = await lstat(join(dir, 'dev/null'));
      assert.ok(devNull.isCharacterDevice());
      assert.equal(devNull.rdev, (await stat('/dev/null')).rdev);
      assert.ok((await lstat(join(dir, 'dev/initctl'))).isFIFO());
    },
  );

  it('refuses a device file without the option, writing nothing for it', async () => {
    const tar = await buildTar([{ name: 'dev/sda', type: 'block-device', devmajor: 8, devminor: 0 }]);
    const dir = dest();
    const error = await archiveErrorOf(extractTar(Readable.from([tar]), dir));
    assert.equal(error.code, ArchiveErrorCode.DeviceFile);
    assert.equal(existsSync(join(dir, 'dev')), false);
  });

  it('refuses the symlink-then-write-through attack (a -> /tmp/x, then a/b)', async () => {
    const outside = join(root, 'outside');
    await mkdir(outside, { recursive: true });
    const tar = await buildTar([
      { name: 'a', type: 'symlink', linkname: outside },
      { name: 'a/b', content: 'pwned' },
    ]);
    const error = await archiveErrorOf(extractTar(Readable.from([tar]), dest()));
    assert.equal(error.code, ArchiveErrorCode.WriteThroughSymlink);
    assert.equal(error.entryPath, 'a/b');
    assert.deepEqual(await readdir(outside), []);
  });

  it('refuses writing through a symlink already in the destination (lstat of each parent)', async () => {
    const outside = join(root, 'outside-2');
    await mkdir(outside, { recursive: true });
    const dir = dest();
    await mkdir(dir);
    await symlink(outside, join(dir, 'c'));
    const tar = await buildTar([{ name: 'c/d/e', content: 'pwned' }]);
    const error = await archiveErrorOf(extractTar(Readable.from([tar]), dir));
    assert.equal(error.code, ArchiveErrorCode.WriteThroughSymlink);
    assert.deepEqual(await readdir(outside), []);
  });

  it('replaces an existing symlink at a file path instead of following it', async () => {
    const victim = join(root, 'victim');
    await writeFile(victim, 'original');
    const dir = dest();
    await mkdir(dir);
    await symlink(victim, join(dir, 'f'));
    await extractTar(Readable.from([await buildTar([{ name: 'f', content: 'new' }])]), dir);
    assert.equal(await readFile(victim, 'utf8'), 'original');
    assert.equal(await readFile(join(dir, 'f'), 'utf8'), 'new');
    assert.ok((await lstat(join(dir, 'f'))).isFile());
  });

  it('a later entry of the same name wins; a file cannot replace a directory', async () => {
    const dir = dest();
    const tar = await buildTar([
      { name: 'x', content: 'one' },
      { name: 'x', content: 'two' },
      { name: 'd/', type: 'directory' },
      { name: 'd', content: 'file over dir' },
    ]);
    const error = await archiveErrorOf(extractTar(Readable.from([tar]), dir));
    assert.equal(error.code, ArchiveErrorCode.EntryConflict);
    assert.equal(await readFile(join(dir, 'x'), 'utf8'), 'two');
  });

  for (const [label, entries, code] of [
    ['an absolute path', [{ name: '/etc/cron.d/evil', content: 'x' }], ArchiveErrorCode.AbsolutePath],
    ['a .. component', [{ name: 'a/../../evil', content: 'x' }], ArchiveErrorCode.ParentTraversal],
    [
      'an escaping symlink',
      [{ name: 'a/l', type: 'symlink', linkname: '../../etc' }],
      ArchiveErrorCode.LinkEscape,
    ],
    [
      'a hard link outside',
      [{ name: 'h', type: 'link', linkname: '../../etc/passwd' }],
      ArchiveErrorCode.LinkEscape,
    ],
    [
      'a hard link to an absolute path',
      [{ name: 'h', type: 'link', linkname: '/etc/passwd' }],
      ArchiveErrorCode.LinkEscape,
    ],
    [
      'a hard link not yet seen',
      [
        { name: 'h', type: 'link', linkname: 'later' },
        { name: 'later', content: 'x' },
      ],
      ArchiveErrorCode.LinkTargetMissing,
    ],
  ] as const) {
    it(`refuses ${label}`, async () => {
      const dir = dest();
      const error = await archiveErrorOf(extractTar(Readable.from([await buildTar(entries)]), dir));
      assert.equal(error.code, code);
      assert.equal(error.entryPath, entries[0].name);
      assert.deepEqual(await readdir(dir), []);
    });
  }

  it('refuses unknown entry types', async () => {
    const tar = patchHeader(await buildTar([{ name: 'odd', content: '' }]), 0, { typeflag: 'V' });
    assert.equal(
      (await archiveErrorOf(extractTar(Readable.from([tar]), dest()))).code,
      ArchiveErrorCode.UnsupportedType,
    );
  });

  it('a truncated gzip rejects (no hang)', async () => {
    const tgz = await buildTar([{ name: 'big', content: Buffer.alloc(1_000_000, 3) }], { gzip: true });
    const error = await archiveErrorOf(
      extractTar(Readable.from([tgz.subarray(0, tgz.length - 100)]), dest()),
    );
    assert.equal(error.code, ArchiveErrorCode.Truncated);
    assert.equal(error.message, 'truncated gzip stream');
  });

  it('a truncated tar rejects (no hang)', async () => {
    const tar = await buildTar([{ name: 'big', content: Buffer.alloc(100_000, 3) }]);
    const error = await archiveErrorOf(extractTar(Readable.from([tar.subarray(0, 50_000)]), dest()));
    assert.equal(error.code, ArchiveErrorCode.Truncated);
    assert.equal(error.message, 'unexpected end of tar archive');
  });

  it('an abort rejects with the reason', async () => {
    const controller = new AbortController();
    const header = patchHeader(await buildTar([{ name: 'huge', content: '' }]), 0, {
      size: 2 ** 36,
    }).subarray(0, 512);
    let sent = 0;
    const endless = new Readable({
      read() {
        sent += 1;
        if (sent === 100) controller.abort(new Error('cancelled by the task'));
        this.push(sent === 1 ? header : Buffer.alloc(65536, 1));
      },
    });
    await assert.rejects(extractTar(endless, dest(), { signal: controller.signal }), /cancelled by the task/);
    assert.equal(endless.destroyed, true);
  });

  it('extracts what the system tar made (gzip, nested dirs, symlinks, hard links, modes)', async () => {
    const src = join(root, 'system-src');
    await mkdir(join(src, 'a/b'), { recursive: true });
    await writeFile(join(src, 'a/b/file'), 'content from system tar');
    await run('chmod', ['0751', join(src, 'a/b/file')]);
    await symlink('b/file', join(src, 'a/link'));
    await link(join(src, 'a/b/file'), join(src, 'a/hard'));
    await writeFile(join(src, `${'long-name-'.repeat(15)}.txt`), 'long');
    const tgz = join(root, 'system.tgz');
    await run('tar', ['-czf', tgz, '-C', src, '.']);
    const dir = dest();
    const { createReadStream } = await import('node:fs');
    await extractTar(createReadStream(tgz), dir);
    assert.equal(await readFile(join(dir, 'a/b/file'), 'utf8'), 'content from system tar');
    assert.equal((await stat(join(dir, 'a/b/file'))).mode & 0o7777, 0o751);
    assert.equal(await readlink(join(dir, 'a/link')), 'b/file');
    assert.equal((await stat(join(dir, 'a/hard'))).ino, (await stat(join(dir, 'a/b/file'))).ino);
    assert.equal(await readFile(join(dir, `${'long-name-'.repeat(15)}.txt`), 'utf8'), 'long');
    // And the system tar reads the tree back the same way.
    const { stdout } = await run('tar', ['-tzf', tgz]);
    assert.ok(stdout.split('\n').includes('./a/b/file'));
  });
});
