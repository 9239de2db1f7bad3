import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { LocalDirBlobstore } from '../blobstore/local-dir-blobstore.ts';
import { rootfsMigration } from '../db/migrations/003-rootfs.ts';
import { releasesMigration } from '../db/migrations/004-releases.ts';
import { testBackends, type TestDatabase } from '../db/test-databases.ts';
import { CompiledPackageStore, storeCompiledPackage } from './compiled-package-store.ts';

const key = (stemcellVersion: string, fingerprint = 'fp-a') => ({
  fingerprint,
  dependencyKey: '[]',
  stemcellOs: 'ubuntu-noble',
  stemcellVersion,
});

for (const backend of testBackends()) {
  describe(`CompiledPackageStore on ${backend.name}`, { skip: backend.skip }, () => {
    let database: TestDatabase;
    let dir: string;
    let blobstore: LocalDirBlobstore;
    before(async () => {
      database = await backend.create({ migrations: [rootfsMigration, releasesMigration] });
      dir = await mkdtemp(join(tmpdir(), 'refit-compiled-'));
      blobstore = new LocalDirBlobstore(dir);
      await blobstore.start();
    });
    after(async () => {
      await database?.cleanup();
      await rm(dir, { recursive: true, force: true });
    });

    it('stores a compiled package result and finds it exactly or on the same major line', async () => {
      const stored = await storeCompiledPackage(
        { db: database.db, blobstore },
        { packageName: 'a', ...key('1.1'), source: Readable.from([Buffer.from('compiled a on 1.1')]) },
      );
      assert.equal(stored.build, 1);
      assert.equal((await blobstore.stat(stored.blobstoreId))?.sha1, stored.sha1);
      const store = new CompiledPackageStore(database.db);
      assert.equal((await store.find(key('1.1')))?.id, stored.id);
      assert.equal((await store.find(key('1.2')))?.id, stored.id);
      assert.equal(await store.find(key('2.0')), null);
      assert.equal(await store.find(key('1.1', 'fp-other')), null);
    });

    it('keeps the first of two results for the same key and drops the loser blob', async () => {
      const first = await new CompiledPackageStore(database.db).find(key('1.1'));
      const second = await storeCompiledPackage(
        { db: database.db, blobstore },
        { packageName: 'a', ...key('1.1'), source: Readable.from([Buffer.from('another build')]) },
      );
      assert.equal(second.id, first?.id);
      const blobs: string[] = [];
      for await (const id of blobstore.list()) blobs.push(id);
      assert.deepEqual(blobs, [first?.blobstoreId]);
    });

    it('numbers builds per fingerprint and stemcell, and removes orphans when no package has the fingerprint', async () => {
      const store = new CompiledPackageStore(database.db);
      const other = await store.insert({
        packageName: 'a',
        ...key('1.1'),
        dependencyKey: '[["b","1"]]',
        sha1: 'x',
        blobstoreId: 'blob-x',
      });
      assert.equal(other.inserted, true);
      assert.equal(other.record.build, 2);
      const orphans = await database.db.transaction((tx) => store.deleteOrphans(tx));
      assert.equal(orphans.length, 2);
      assert.equal(await store.find(key('1.1')), null);
    });
  });
}
