import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { describe, it } from 'node:test';
import { ArchiveError, ArchiveErrorCode } from './archive-error.ts';
import { openTar } from './open-tar.ts';
import { listTar, readTarFile } from './read-tar.ts';
import { buildTar, patchHeader } from './testing/build-tar.ts';

const manifest = 'name: bosh-stemcell\nversion: "1.5"\n';
const stemcell = () =>
  buildTar([
    { name: './stemcell.MF', content: manifest },
    { name: './image', content: Buffer.alloc(300_000, 1) },
    { name: './packages.txt', content: 'pkgs' },
  ]);

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

async function archiveErrorOf(promise: Promise<unknown>): Promise<ArchiveError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  assert.ok(error instanceof ArchiveError, `expected an ArchiveError, got ${String(error)}`);
  return error;
}

/** A source that yields `data` in small chunks, like a socket would. */
const chunked = (data: Buffer, size = 1000) =>
  Readable.from(
    (function* () {
      for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
    })(),
  );

describe('openTar', () => {
  it('reads plain and gzipped archives alike (auto-detected), chunk by chunk', async () => {
    for (const gzip of [false, true]) {
      const tar = await buildTar(
        [
          { name: 'a', content: 'A' },
          { name: 'b/', type: 'directory' },
          { name: 'b/c', content: 'C' },
        ],
        { gzip },
      );
      const seen: string[] = [];
      for await (const entry of openTar(chunked(tar, 7))) {
        seen.push(
          `${entry.header.name}:${entry.header.type}:${entry.header.type === 'file' ? await text(entry.body) : ''}`,
        );
      }
      assert.deepEqual(seen, ['a:file:A', 'b/:directory:', 'b/c:file:C'], `gzip=${gzip}`);
    }
  });

  it('honours an explicit gzip flag', async () => {
    const plain = await buildTar([{ name: 'a', content: 'A' }]);
    const error = await archiveErrorOf(collect(openTar(Readable.from([plain]), { gzip: true })));
    assert.equal(error.code, ArchiveErrorCode.InvalidTar);
  });

  it('skips bodies the caller does not read', async () => {
    const names = (await collect(openTar(chunked(await stemcell())))).map((e) => e.header.name);
    assert.deepEqual(names, ['./stemcell.MF', './image', './packages.txt']);
  });

  it('a body read in part, or destroyed, does not disturb the entries after it', async () => {
    const tar = await buildTar([
      { name: 'big', content: Buffer.alloc(200_000, 9) },
      { name: 'next', content: 'still here' },
    ]);
    for (const stop of ['break', 'destroy'] as const) {
      const seen: string[] = [];
      for await (const entry of openTar(chunked(tar))) {
        if (entry.header.name === 'big') {
          for await (const chunk of entry.body) {
            assert.ok((chunk as Buffer).length > 0);
            if (stop === 'destroy') entry.body.destroy();
            break;
          }
        } else {
          seen.push(await text(entry.body));
        }
      }
      assert.deepEqual(seen, ['still here'], stop);
    }
  });

  it('nested archives: reading one member of an inner tar leaves the outer one usable', async () => {
    const inner = await buildTar(
      [
        { name: 'inner.MF', content: 'inner manifest' },
        { name: 'blob', content: Buffer.alloc(100_000, 2) },
      ],
      { gzip: true },
    );
    const outer = await buildTar([
      { name: 'root.tgz', content: inner },
      { name: 'install', content: '#!/bin/sh\n' },
    ]);
    const seen: string[] = [];
    for await (const entry of openTar(chunked(outer))) {
      if (entry.header.name === 'root.tgz') seen.push(String(await readTarFile(entry.body, 'inner.MF')));
      else seen.push(`${entry.header.name}:${await text(entry.body)}`);
    }
    assert.deepEqual(seen, ['inner manifest', 'install:#!/bin/sh\n']);
  });

  it('a truncated gzip stream is an ArchiveError, not a hang', async () => {
    const tgz = await buildTar([{ name: 'big', content: Buffer.alloc(200_000, 7) }], { gzip: true });
    const error = await archiveErrorOf(collect(openTar(chunked(tgz.subarray(0, tgz.length - 30)))));
    assert.equal(error.code, ArchiveErrorCode.Truncated);
    assert.equal(error.message, 'truncated gzip stream');
  });

  it('a truncated gzip stream fails while the body is being read too', async () => {
    const tgz = await buildTar([{ name: 'big', content: Buffer.alloc(200_000, 7) }], { gzip: true });
    const read = (async () => {
      for await (const entry of openTar(chunked(tgz.subarray(0, Math.floor(tgz.length / 2)), 50)))
        await text(entry.body);
    })();
    assert.equal((await archiveErrorOf(read)).code, ArchiveErrorCode.Truncated);
  });

  it('a tar truncated in a body or in a header is "unexpected end of tar archive"', async () => {
    const tar = await stemcell();
    for (const cut of [512 + 100, 1024 + 1000, 1024 + 300_000 + 200]) {
      const read = (async () => {
        for await (const entry of openTar(chunked(tar.subarray(0, cut)))) await text(entry.body);
      })();
      const error = await archiveErrorOf(read);
      assert.equal(error.code, ArchiveErrorCode.Truncated, `cut at ${cut}`);
      assert.equal(error.message, 'unexpected end of tar archive');
    }
  });

  it('garbage is an invalid archive', async () => {
    const error = await archiveErrorOf(collect(openTar(Readable.from([Buffer.alloc(2048, 'x')]))));
    assert.equal(error.code, ArchiveErrorCode.InvalidTar);
  });

  it('reports unknown entry types as such', async () => {
    const tar = patchHeader(await buildTar([{ name: 'volume', content: '' }]), 0, { typeflag: 'V' });
    const [entry] = await collect(openTar(Readable.from([tar])));
    assert.equal(entry?.header.type, 'unknown');
  });

  it('aborting ends the iteration with the reason', async () => {
    // A header announcing a 64 GiB file, then a body that never ends.
    const header = patchHeader(await buildTar([{ name: 'huge', content: '' }]), 0, {
      size: 64 * 2 ** 30,
    }).subarray(0, 512);
    const controller = new AbortController();
    let sent = 0;
    const endless = new Readable({
      read() {
        sent += 1;
        if (sent === 50) controller.abort(new Error('stop now'));
        this.push(sent === 1 ? header : Buffer.alloc(512, 0x41));
      },
    });
    const read = (async () => {
      for await (const entry of openTar(endless, { signal: controller.signal, gzip: false }))
        await text(entry.body);
    })();
    await assert.rejects(read, /stop now/);
    assert.equal(endless.destroyed, true);
  });
});

describe('readTarFile and listTar', () => {
  it('reads one member by its path, with or without ./', async () => {
    const tar = await stemcell();
    assert.equal(String(await readTarFile(chunked(tar), 'stemcell.MF')), manifest);
    assert.equal(String(await readTarFile(chunked(tar), './packages.txt')), 'pkgs');
    assert.equal(await readTarFile(chunked(tar), 'missing.MF'), null);
  });

  it('refuses a member larger than the limit', async () => {
    const error = await archiveErrorOf(readTarFile(chunked(await stemcell()), 'image', { maxBytes: 1024 }));
    assert.equal(error.code, ArchiveErrorCode.MemberTooLarge);
    assert.equal(error.entryPath, './image');
  });

  it('stops reading once the member is found', async () => {
    const tar = await stemcell();
    const source = chunked(tar.subarray(0, 5000)); // truncated well after stemcell.MF
    assert.equal(String(await readTarFile(source, 'stemcell.MF')), manifest);
    assert.equal(source.destroyed, true);
  });

  it('lists headers and, with a policy, refuses hostile archives', async () => {
    const headers = await collect(listTar(chunked(await stemcell())));
    assert.deepEqual(
      headers.map((h) => [h.name, h.size]),
      [
        ['./stemcell.MF', manifest.length],
        ['./image', 300_000],
        ['./packages.txt', 4],
      ],
    );
    const hostile = await buildTar([
      { name: 'ok', content: 'x' },
      { name: 'etc/../../x', content: 'x' },
    ]);
    const error = await archiveErrorOf(collect(listTar(Readable.from([hostile]), { policy: {} })));
    assert.equal(error.code, ArchiveErrorCode.ParentTraversal);
    assert.equal(error.entryPath, 'etc/../../x');
  });
});
