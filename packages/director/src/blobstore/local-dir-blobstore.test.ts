import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { after, before, describe, it } from 'node:test';
import { BlobNotFoundError, InvalidBlobIdError, LocalDirBlobstore } from './local-dir-blobstore.ts';

const sha = (algorithm: string, data: string | Buffer) => createHash(algorithm).update(data).digest('hex');

describe('LocalDirBlobstore', () => {
  let root: string;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'refit-blobstore-'));
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  const fresh = async (name: string) => {
    const store = new LocalDirBlobstore(join(root, name));
    await store.start();
    return store;
  };

  it('stores content under its sha256 and returns both digests and the size', async () => {
    const store = await fresh('put');
    const info = await store.put(Readable.from([Buffer.from('hello '), Buffer.from('world')]));
    assert.deepEqual(info, {
      id: sha('sha256', 'hello world'),
      size: 11,
      sha1: sha('sha1', 'hello world'),
      sha256: sha('sha256', 'hello world'),
    });
    assert.deepEqual(await readdir(join(store.dir, info.id.slice(0, 2))), [info.id, `${info.id}.sha1`]);
    assert.equal(await text(await store.get(info.id)), 'hello world');
    assert.deepEqual(await store.stat(info.id), info);
  });

  it('keeps an existing identical blob and leaves no temporary file', async () => {
    const store = await fresh('dedup');
    const a = await store.put(Readable.from([Buffer.from('same')]));
    const b = await store.put(Readable.from([Buffer.from('same')]));
    assert.deepEqual(a, b);
    assert.deepEqual(await readdir(join(store.dir, '.incoming')), []);
    const ids: string[] = [];
    for await (const id of store.list()) ids.push(id);
    assert.deepEqual(ids, [a.id]);
  });

  it('serves byte ranges, inclusive, open-ended or not', async () => {
    const store = await fresh('range');
    const { id } = await store.put(Readable.from([Buffer.from('0123456789')]));
    assert.equal(await text(await store.get(id, { start: 3, end: 5 })), '345');
    assert.equal(await text(await store.get(id, { start: 7 })), '789');
  });

  it('stat answers null, delete accepts and get refuses a missing blob', async () => {
    const store = await fresh('missing');
    const id = sha('sha256', 'never stored');
    assert.equal(await store.stat(id), null);
    await store.delete(id);
    await assert.rejects(store.get(id), BlobNotFoundError);
  });

  it('delete removes a blob from stat and list', async () => {
    const store = await fresh('delete');
    const { id } = await store.put(Readable.from([Buffer.from('bye')]));
    await store.delete(id);
    assert.equal(await store.stat(id), null);
    assert.deepEqual(await readdir(join(store.dir, id.slice(0, 2))), []);
    const ids: string[] = [];
    for await (const listed of store.list()) ids.push(listed);
    assert.deepEqual(ids, []);
  });

  it('refuses ids that are not sha256 hex (no path tricks)', async () => {
    const store = await fresh('ids');
    await assert.rejects(store.get('../../etc/passwd'), InvalidBlobIdError);
    await assert.rejects(store.stat('ab'), InvalidBlobIdError);
    await assert.rejects(store.delete('A'.repeat(64)), InvalidBlobIdError);
  });

  it('an abort mid-put throws and leaves nothing behind', async () => {
    const store = await fresh('abort');
    const controller = new AbortController();
    let sent = 0;
    const source = new Readable({
      read() {
        if (sent === 4) {
          controller.abort(new Error('cancelled by test'));
          return; // never ends on its own: only the abort can finish the put
        }
        sent += 1;
        this.push(Buffer.alloc(64 * 1024, sent));
      },
    });
    await assert.rejects(store.put(source, controller.signal), /cancelled by test|aborted/);
    assert.deepEqual(await readdir(join(store.dir, '.incoming')), []);
    const ids: string[] = [];
    for await (const id of store.list()) ids.push(id);
    assert.deepEqual(ids, []);
    assert.equal(source.destroyed, true);
  });

  it('a failing source leaves nothing behind', async () => {
    const store = await fresh('fail');
    const source = new Readable({
      read() {
        this.destroy(new Error('disk on fire'));
      },
    });
    await assert.rejects(store.put(source), /disk on fire/);
    assert.deepEqual(await readdir(join(store.dir, '.incoming')), []);
  });

  it('stat recomputes the sha1 when its note is missing', async () => {
    const store = await fresh('nonote');
    const info = await store.put(Readable.from([Buffer.from('noted')]));
    await rm(join(store.dir, info.id.slice(0, 2), `${info.id}.sha1`));
    assert.deepEqual(await store.stat(info.id), info);
  });

  it('start() removes leftovers of interrupted writes but keeps blobs', async () => {
    const dir = join(root, 'restart');
    const first = new LocalDirBlobstore(dir);
    await first.start();
    const { id } = await first.put(Readable.from([Buffer.from('kept')]));
    await mkdir(join(dir, '.incoming'), { recursive: true });
    await writeFile(join(dir, '.incoming', 'half-written'), 'partial');
    const second = new LocalDirBlobstore(dir);
    await second.start();
    assert.deepEqual(await readdir(join(dir, '.incoming')), []);
    assert.equal(await text(await second.get(id)), 'kept');
  });

  it('streams a blob larger than any buffer (8 MiB in 64 KiB chunks)', async () => {
    const store = await fresh('large');
    const chunk = Buffer.alloc(64 * 1024, 7);
    const expected = createHash('sha256');
    for (let i = 0; i < 128; i++) expected.update(chunk);
    const info = await store.put(
      Readable.from(
        (function* () {
          for (let i = 0; i < 128; i++) yield chunk;
        })(),
      ),
    );
    assert.equal(info.size, 8 * 1024 * 1024);
    assert.equal(info.id, expected.digest('hex'));
  });
});
