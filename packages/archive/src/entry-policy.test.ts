import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ArchiveError, ArchiveErrorCode } from './archive-error.ts';
import { checkEntry, EntryChecker } from './entry-policy.ts';
import type { TarHeader } from './tar-header.ts';

const header = (name: string, extra: Partial<TarHeader> = {}): TarHeader => ({
  name,
  type: 'file',
  size: 0,
  mode: 0o644,
  uid: 0,
  gid: 0,
  mtime: new Date(0),
  linkname: null,
  devmajor: 0,
  devminor: 0,
  ...extra,
});

function codeOf(fn: () => unknown): string | null {
  try {
    fn();
    return null;
  } catch (error) {
    assert.ok(error instanceof ArchiveError, String(error));
    return error.code;
  }
}

describe('checkEntry', () => {
  it('normalizes ordinary paths', () => {
    assert.equal(checkEntry(header('./a//b/c')).path, 'a/b/c');
    assert.equal(checkEntry(header('./', { type: 'directory' })).path, '');
    assert.equal(checkEntry(header('dir/', { type: 'directory' })).path, 'dir');
  });

  it('refuses absolute paths and names the entry', () => {
    assert.throws(
      () => checkEntry(header('/etc/passwd')),
      (e: unknown) => {
        assert.ok(e instanceof ArchiveError);
        assert.equal(e.code, ArchiveErrorCode.AbsolutePath);
        assert.equal(e.entryPath, '/etc/passwd');
        assert.match(e.message, /'\/etc\/passwd'/);
        return true;
      },
    );
  });

  it('refuses any .. component', () => {
    for (const name of ['../x', 'a/../../x', 'a/..', 'a/../b']) {
      assert.equal(
        codeOf(() => checkEntry(header(name))),
        ArchiveErrorCode.ParentTraversal,
        name,
      );
    }
    assert.equal(checkEntry(header('a/..b/c..')).path, 'a/..b/c..');
  });

  it('refuses a non-directory naming the root, and NUL bytes', () => {
    assert.equal(
      codeOf(() => checkEntry(header('./'))),
      ArchiveErrorCode.InvalidPath,
    );
    assert.equal(
      codeOf(() => checkEntry(header('a\0b'))),
      ArchiveErrorCode.InvalidPath,
    );
  });

  it('symlinks: relative targets resolve from the link directory', () => {
    const link = (name: string, linkname: string) => header(name, { type: 'symlink', linkname });
    assert.equal(checkEntry(link('a/b/l', '../c')).linkTarget, '../c');
    assert.equal(checkEntry(link('a/b/l', '../../c')).linkTarget, '../../c');
    assert.equal(
      codeOf(() => checkEntry(link('a/b/l', '../../../c'))),
      ArchiveErrorCode.LinkEscape,
    );
    assert.equal(
      codeOf(() => checkEntry(link('l', '..'))),
      ArchiveErrorCode.LinkEscape,
    );
    assert.equal(
      codeOf(() => checkEntry(link('a/l', 'x/../../..'))),
      ArchiveErrorCode.LinkEscape,
    );
  });

  it('symlinks: absolute targets stay within the root unless refused', () => {
    const link = (name: string, linkname: string) => header(name, { type: 'symlink', linkname });
    assert.equal(checkEntry(link('usr/bin/vi', '/usr/bin/vim.basic')).linkTarget, '/usr/bin/vim.basic');
    assert.equal(
      codeOf(() => checkEntry(link('a', '/../etc/passwd'))),
      ArchiveErrorCode.LinkEscape,
    );
    assert.equal(
      codeOf(() => checkEntry(link('a', '/etc'), { absoluteSymlinks: 'refuse' })),
      ArchiveErrorCode.LinkEscape,
    );
    assert.equal(
      codeOf(() => checkEntry(link('a', ''))),
      ArchiveErrorCode.InvalidPath,
    );
  });

  it('hard links: inside the archive and to an earlier file only', () => {
    const checker = new EntryChecker();
    checker.check(header('a/f'));
    assert.equal(checker.check(header('a/h', { type: 'link', linkname: './a/f' })).linkTarget, 'a/f');
    const hard = (linkname: string) => () => checker.check(header('x', { type: 'link', linkname }));
    assert.equal(codeOf(hard('../etc/passwd')), ArchiveErrorCode.LinkEscape);
    assert.equal(codeOf(hard('/etc/passwd')), ArchiveErrorCode.LinkEscape);
    assert.equal(codeOf(hard('a/later')), ArchiveErrorCode.LinkTargetMissing);
    checker.check(header('d/', { type: 'directory' }));
    assert.equal(codeOf(hard('d')), ArchiveErrorCode.LinkTargetMissing);
  });

  it('devices and fifos only under dev/ when allowed', () => {
    for (const type of ['character-device', 'block-device', 'fifo'] as const) {
      const dev = header('dev/null', { type, devmajor: 1, devminor: 3 });
      assert.equal(
        codeOf(() => checkEntry(dev)),
        ArchiveErrorCode.DeviceFile,
        type,
      );
      assert.equal(checkEntry(dev, { allowDevicesUnder: 'dev' }).path, 'dev/null');
      const outside = header('etc/null', { type, devmajor: 1, devminor: 3 });
      assert.equal(
        codeOf(() => checkEntry(outside, { allowDevicesUnder: 'dev' })),
        ArchiveErrorCode.DeviceFile,
      );
      const named = header('dev', { type });
      assert.equal(
        codeOf(() => checkEntry(named, { allowDevicesUnder: 'dev' })),
        ArchiveErrorCode.DeviceFile,
      );
    }
  });

  it('refuses unknown entry types', () => {
    assert.equal(
      codeOf(() => checkEntry(header('x', { type: 'unknown' }))),
      ArchiveErrorCode.UnsupportedType,
    );
  });

  it('refuses entries beneath an earlier symlink, until it is replaced by a directory', () => {
    const checker = new EntryChecker();
    checker.check(header('a', { type: 'symlink', linkname: '/tmp/x' }));
    assert.equal(
      codeOf(() => checker.check(header('a/b'))),
      ArchiveErrorCode.WriteThroughSymlink,
    );
    assert.equal(
      codeOf(() => checker.check(header('a/b/c/', { type: 'directory' }))),
      ArchiveErrorCode.WriteThroughSymlink,
    );
    checker.check(header('a/', { type: 'directory' }));
    assert.equal(checker.check(header('a/b')).path, 'a/b');
  });
});
