import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { RouteRequest } from '../api/route.ts';
import { stemcellsMigration } from '../db/migrations/002-stemcells.ts';
import { rootfsMigration } from '../db/migrations/003-rootfs.ts';
import { testBackends, type TestDatabase } from '../db/test-databases.ts';
import { RootfsStore } from '../rootfs/rootfs-store.ts';
import { listStemcellsRoute } from './list-stemcells-route.ts';
import { StemcellStore } from './stemcell-store.ts';

function get(path: string): RouteRequest {
  return {
    method: 'GET',
    path,
    params: {},
    query: new URLSearchParams(),
    headers: {},
    user: 'admin',
    body: new PassThrough(),
    signal: new AbortController().signal,
  };
}

const stemcell = (name: string, version: string, os = 'ubuntu-noble') => ({
  name,
  version,
  operatingSystem: os,
  cpi: '',
  cid: `cid-${name}-${version}`,
  sha1: 'da39a3ee5e6b4b0d3255bfef95601890afd80709',
  apiVersion: 3,
});

for (const backend of testBackends()) {
  describe(`StemcellStore on ${backend.name}`, { skip: backend.skip }, () => {
    let t: TestDatabase;
    beforeEach(async () => {
      t = await backend.create({ migrations: [stemcellsMigration, rootfsMigration] });
    });
    afterEach(() => t.cleanup());

    it('inserts, finds by name/version/cpi and refuses a duplicate', async () => {
      const store = new StemcellStore(t.db);
      const saved = await store.insert(stemcell('s', '1.5'));
      assert.equal(typeof saved.id, 'number');
      assert.deepEqual(await store.find('s', '1.5', ''), saved);
      assert.equal(await store.find('s', '1.5', 'other-cpi'), null);
      await assert.rejects(store.insert(stemcell('s', '1.5')));
      assert.equal((await store.findAll('s', '1.5')).length, 1);
    });

    it('lists stemcells by name with deployments and the matching rootfs', async () => {
      const store = new StemcellStore(t.db);
      const b = await store.insert(stemcell('b-stemcell', '2'));
      const a = await store.insert(stemcell('a-stemcell', '1'));
      await t.db.execute('INSERT INTO stemcell_usages (stemcell_id, deployment) VALUES ($1, $2), ($1, $3)', [
        b.id,
        'zeta',
        'alpha',
      ]);
      await new RootfsStore(t.db).insert({
        name: 'generic-noble',
        version: '2',
        operatingSystem: 'ubuntu-noble',
        apiVersion: 3,
        sha256: 'ab'.repeat(32),
        size: 2 ** 33,
        blobstoreId: 'ab'.repeat(32),
      });
      const reply = await listStemcellsRoute(t.db).handle(get('/stemcells'));
      assert.equal(reply.kind, 'json');
      assert.deepEqual(reply.kind === 'json' ? reply.body : null, [
        {
          name: 'a-stemcell',
          operating_system: 'ubuntu-noble',
          version: '1',
          cid: 'cid-a-stemcell-1',
          cpi: '',
          deployments: [],
          api_version: 3,
          id: a.id,
          rootfs: null,
        },
        {
          name: 'b-stemcell',
          operating_system: 'ubuntu-noble',
          version: '2',
          cid: 'cid-b-stemcell-2',
          cpi: '',
          deployments: [{ name: 'alpha' }, { name: 'zeta' }],
          api_version: 3,
          id: b.id,
          rootfs: { version: '2', sha256: 'ab'.repeat(32), size: 2 ** 33 },
        },
      ]);
    });

    it('replaces the cid on fix and deletes', async () => {
      const store = new StemcellStore(t.db);
      const saved = await store.insert(stemcell('s', '1'));
      await store.replaceCid(saved.id, 'new-cid', 'f'.repeat(40), null);
      const found = await store.find('s', '1', '');
      assert.equal(found?.cid, 'new-cid');
      assert.equal(found?.apiVersion, null);
      await store.delete(saved.id);
      assert.equal(await store.find('s', '1', ''), null);
    });
  });

  describe(`RootfsStore on ${backend.name}`, { skip: backend.skip }, () => {
    let t: TestDatabase;
    beforeEach(async () => {
      t = await backend.create({ migrations: [stemcellsMigration, rootfsMigration] });
    });
    afterEach(() => t.cleanup());

    it('keeps one row per name/version, counts blob users and reads reservations', async () => {
      const store = new RootfsStore(t.db);
      const row = {
        name: 'r',
        version: '1',
        operatingSystem: 'ubuntu-noble',
        apiVersion: 3,
        sha256: 'cd'.repeat(32),
        size: 10,
        blobstoreId: 'cd'.repeat(32),
      };
      const saved = await store.insert(row);
      await assert.rejects(store.insert(row));
      assert.equal(await store.countByBlob('cd'.repeat(32)), 1);
      assert.deepEqual(await store.reservationHolders(saved.id), []);
      await t.db.execute(
        'INSERT INTO rootfs_reservations (rootfs_id, holder, created_at) VALUES ($1, $2, $3)',
        [saved.id, 'deployment:web', new Date().toISOString()],
      );
      assert.deepEqual(await store.reservationHolders(saved.id), ['deployment:web']);
      assert.deepEqual(
        (await store.list()).map((r) => [r.name, r.version, r.size]),
        [['r', '1', 10]],
      );
    });
  });
}
