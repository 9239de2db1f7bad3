import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { testBackends, type TestDatabase } from '../db/test-databases.ts';
import { deploymentsMigration } from '../deployments/006-deployments.ts';
import { persistentDiskActiveMigration } from '../deployments/017-persistent-disk-active.ts';
import { orphanDisksMigration } from './015-orphan-disks.ts';
import { OrphanDiskStore } from './orphan-disk-store.ts';

async function seedDisk(database: TestDatabase, cid: string, instanceId: string, az: string | null) {
  await database.db.execute(
    `INSERT INTO instances (id, deployment, group_name, idx, az, state, update_completed, hashes, created_at)
     VALUES ($1, 'dep', 'web', 0, $2, 'started', 1, '{}', '2026-01-01T00:00:00Z')`,
    [instanceId, az],
  );
  await database.db.execute(
    `INSERT INTO persistent_disks (cid, instance_id, deployment, size, cloud_properties) VALUES ($1, $2, 'dep', 1024, $3)`,
    [cid, instanceId, JSON.stringify({ type: 'fast' })],
  );
}

for (const backend of testBackends()) {
  describe(`orphan disk store on ${backend.name}`, { skip: backend.skip }, () => {
    let database: TestDatabase;
    let store: OrphanDiskStore;
    before(async () => {
      database = await backend.create({
        migrations: [deploymentsMigration, persistentDiskActiveMigration, orphanDisksMigration],
      });
      store = new OrphanDiskStore(database.db);
    });
    after(() => database?.cleanup());

    it('orphans a recorded disk: the row moves, with the instance name and AZ', async () => {
      await seedDisk(database, 'disk-1', 'uuid-1', 'z1');
      const orphaned = await store.orphan('disk-1', { now: new Date('2026-02-01T10:00:00Z') });
      assert.deepEqual(orphaned, {
        cid: 'disk-1',
        size: 1024,
        cloudProperties: { type: 'fast' },
        az: 'z1',
        deploymentName: 'dep',
        instanceName: 'web/uuid-1',
        cpi: null,
        createdAt: '2026-02-01T10:00:00.000Z',
      });
      assert.deepEqual(await store.list(), [orphaned]);
      assert.deepEqual(await store.find('disk-1'), orphaned);
      assert.equal(await store.findAttached('disk-1'), null);
    });

    it('answers null for a disk no instance has, and changes nothing', async () => {
      assert.equal(await store.orphan('nope'), null);
      assert.equal(await store.find('nope'), null);
      assert.equal((await store.list()).length, 1);
    });

    it('lists the orphans older than a moment', async () => {
      await seedDisk(database, 'disk-2', 'uuid-2', null);
      await store.orphan('disk-2', { now: new Date('2026-03-01T10:00:00Z') });
      const old = await store.orphanedBefore('2026-02-15T00:00:00.000Z');
      assert.deepEqual(
        old.map((d) => d.cid),
        ['disk-1'],
      );
      assert.deepEqual(
        (await store.list()).map((d) => [d.cid, d.az]),
        [
          ['disk-1', 'z1'],
          ['disk-2', null],
        ],
      );
    });

    it('unorphans onto an instance in one move', async () => {
      const attached = await store.unorphan('disk-2', 'uuid-1', 'dep');
      assert.deepEqual(attached, {
        cid: 'disk-2',
        instanceId: 'uuid-1',
        deployment: 'dep',
        size: 1024,
        cloudProperties: { type: 'fast' },
      });
      assert.equal(await store.find('disk-2'), null);
      assert.deepEqual(await store.findAttached('disk-2'), attached);
      assert.equal(await store.unorphan('disk-2', 'uuid-1', 'dep'), null);
    });

    it('removes an orphan', async () => {
      await store.remove('disk-1');
      assert.deepEqual(await store.list(), []);
    });
  });
}
