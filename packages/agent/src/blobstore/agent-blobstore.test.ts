import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startDavServer, type DavServer } from '../testing/dav-server.ts';
import { settingsBlobstore } from './agent-blobstore.ts';
import { davPath } from './dav-blob-source.ts';

describe('dav blobstore', () => {
  let dav: DavServer;
  let dir: string;
  before(async () => {
    dav = await startDavServer({ user: 'agent', password: 's3cret' });
    dir = await mkdtemp(join(tmpdir(), 'refit-dav-'));
  });
  after(async () => {
    await dav.close();
    await rm(dir, { recursive: true, force: true });
  });
  const store = (password = 's3cret') =>
    settingsBlobstore(() => ({
      provider: 'dav',
      options: { endpoint: dav.endpoint, user: 'agent', password },
    }));
  const signal = () => AbortSignal.timeout(10_000);

  it('uses <hh>/<id> with hh the first byte of sha1(id)', () => {
    assert.equal(davPath('abc'), `${createHash('sha1').update('abc').digest('hex').slice(0, 2)}/abc`);
  });

  it('fetches a blob with basic auth and verifies the strongest digest', async () => {
    const body = Buffer.from('blob body');
    dav.blobs.set('b1', body);
    const sha1 = createHash('sha1').update(body).digest('hex');
    const sha512 = createHash('sha512').update(body).digest('hex');
    const dest = join(dir, 'b1');
    await store().fetch({ blobstoreId: 'b1', digest: `sha1:${sha1};sha512:${sha512}` }, dest, signal());
    assert.equal(await readFile(dest, 'utf8'), 'blob body');
    assert.ok(dav.requests.includes(`GET /${davPath('b1')}`));
  });

  it('removes the download and refuses it when the digest does not match', async () => {
    dav.blobs.set('b2', Buffer.from('tampered'));
    const dest = join(dir, 'b2');
    await assert.rejects(
      store().fetch({ blobstoreId: 'b2', digest: `sha256:${'0'.repeat(64)}` }, dest, signal()),
      /b2: sha256 digest mismatch/,
    );
    await assert.rejects(stat(dest));
  });

  it('reports HTTP failures (wrong password, missing blob)', async () => {
    await assert.rejects(
      store('wrong').fetch({ blobstoreId: 'b1', digest: 'a'.repeat(40) }, join(dir, 'x'), signal()),
      /HTTP 401/,
    );
    await assert.rejects(
      store().fetch({ blobstoreId: 'none', digest: 'a'.repeat(40) }, join(dir, 'y'), signal()),
      /HTTP 404/,
    );
  });

  it('fetches through a signed URL without credentials', async () => {
    const body = Buffer.from('signed');
    dav.blobs.set('s1', body);
    const dest = join(dir, 's1');
    await store('unused').fetch(
      {
        blobstoreId: 's1',
        digest: createHash('sha1').update(body).digest('hex'),
        signedUrl: `${dav.endpoint}/signed/s1?sig=ok`,
      },
      dest,
      signal(),
    );
    assert.equal(await readFile(dest, 'utf8'), 'signed');
  });

  it('uploads with PUT and answers the new id and the sha1', async () => {
    const file = join(dir, 'up');
    await writeFile(file, 'uploaded bytes');
    const { blobstore_id: id, sha1 } = await store().upload(file, signal());
    assert.equal(dav.blobs.get(id)?.toString(), 'uploaded bytes');
    assert.equal(sha1, createHash('sha1').update('uploaded bytes').digest('hex'));
  });
});
