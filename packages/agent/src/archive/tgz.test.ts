import assert from 'node:assert/strict';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readdir, readFile, readlink, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import tar from 'tar-stream';

interface RawEntry {
  name: string;
  type: 'file' | 'symlink';
  size?: number;
  linkname?: string;
}
import { writeTree, exe } from '../testing/fixture.ts';
import { createTgz, extractTgz } from './tgz.ts';

async function rawTgz(file: string, entries: RawEntry[]): Promise<void> {
  const pack = tar.pack();
  for (const e of entries) {
    if (e.type === 'file') pack.entry(e, 'x');
    else pack.entry(e);
  }
  pack.finalize();
  await pipeline(pack, createGzip(), createWriteStream(file));
}

describe('tgz', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'refit-tgz-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('round-trips files, modes and symlinks; extracts one folder with prefix', async () => {
    await writeTree(join(dir, 'src'), { 'a/bin/run': exe('#!/bin/sh\n'), 'a/conf': 'c', 'b/x': 'x' });
    await createTgz(join(dir, 'src'), join(dir, 't.tgz'));
    await extractTgz(join(dir, 't.tgz'), join(dir, 'all'));
    assert.deepEqual((await readdir(join(dir, 'all'))).sort(), ['a', 'b']);
    await extractTgz(join(dir, 't.tgz'), join(dir, 'only-a'), { prefix: 'a' });
    assert.deepEqual((await readdir(join(dir, 'only-a'))).sort(), ['bin', 'conf']);
    const { mode } = await import('node:fs/promises').then((fs) => fs.stat(join(dir, 'only-a/bin/run')));
    assert.equal(mode & 0o777, 0o755);
    assert.equal(await readFile(join(dir, 'only-a/conf'), 'utf8'), 'c');
  });

  it('refuses entries and links that escape the target', async () => {
    await rawTgz(join(dir, 'evil.tgz'), [{ name: '../evil', type: 'file', size: 1 }]);
    await assert.rejects(extractTgz(join(dir, 'evil.tgz'), join(dir, 'e1')), /escapes the target directory/);
    await rawTgz(join(dir, 'link.tgz'), [{ name: 'l', type: 'symlink', linkname: '/etc/passwd' }]);
    await assert.rejects(
      extractTgz(join(dir, 'link.tgz'), join(dir, 'e2')),
      /symlink 'l' -> '\/etc\/passwd' escapes/,
    );
    await rawTgz(join(dir, 'ok.tgz'), [{ name: 'd/l', type: 'symlink', linkname: '../f' }]);
    await extractTgz(join(dir, 'ok.tgz'), join(dir, 'e3'));
    assert.equal(await readlink(join(dir, 'e3/d/l')), '../f');
  });
});
