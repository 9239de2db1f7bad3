import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CpiErrorType } from '@refit/protocol';
import type { Cloud } from '../cpi-client/cloud.ts';
import { CpiCallError, CpiFailureKind } from '../cpi-client/cpi-call-error.ts';
import { testBackends, type TestDatabase } from '../db/test-databases.ts';
import { orphanDisksMigration } from './015-orphan-disks.ts';
import { deleteOrphanDisk } from './delete-orphan-disk.ts';
import { OrphanDiskStore } from './orphan-disk-store.ts';

function cloudAnswering(answer: (cid: string) => unknown): Cloud & { calls: string[] } {
  const calls: string[] = [];
  return {
    name: 'test',
    calls,
    info: () => Promise.reject(new Error('unused')),
    call(method, args) {
      calls.push(`${method} ${String(args[0])}`);
      return Promise.resolve().then(() => answer(String(args[0])));
    },
  };
}

const cpiError = (type: string) =>
  new CpiCallError(`CPI error '${type}'`, {
    kind: CpiFailureKind.CpiError,
    method: 'delete_disk',
    requestId: null,
    cpiErrorType: type,
  });

const [sqlite] = testBackends();
describe('deleteOrphanDisk', () => {
  let database: TestDatabase;
  let store: OrphanDiskStore;
  before(async () => {
    database = await sqlite!.create({ migrations: [orphanDisksMigration] });
    store = new OrphanDiskStore(database.db);
    for (const cid of ['a', 'b', 'c']) {
      await database.db.execute(
        `INSERT INTO orphan_disks (disk_cid, size, cloud_properties, availability_zone, deployment_name, instance_name, cpi, created_at)
         VALUES ($1, 10, '{}', NULL, 'dep', 'web/1', NULL, '2026-01-01T00:00:00.000Z')`,
        [cid],
      );
    }
  });
  after(() => database?.cleanup());
  const signal = new AbortController().signal;

  it('calls delete_disk, then drops the row', async () => {
    const cloud = cloudAnswering(() => null);
    assert.equal(await deleteOrphanDisk({ cloud, store, signal }, 'a'), true);
    assert.deepEqual(cloud.calls, ['delete_disk a']);
    assert.equal(await store.find('a'), null);
  });

  it('drops the row of a disk the IaaS no longer has', async () => {
    const cloud = cloudAnswering(() => {
      throw cpiError(CpiErrorType.DiskNotFound);
    });
    assert.equal(await deleteOrphanDisk({ cloud, store, signal }, 'b'), true);
    assert.equal(await store.find('b'), null);
  });

  it('keeps the row when the CPI fails otherwise', async () => {
    const cloud = cloudAnswering(() => {
      throw cpiError(CpiErrorType.CloudError);
    });
    await assert.rejects(deleteOrphanDisk({ cloud, store, signal }, 'c'), CpiCallError);
    assert.notEqual(await store.find('c'), null);
  });

  it('does nothing for a cid that is no orphan', async () => {
    const cloud = cloudAnswering(() => null);
    assert.equal(await deleteOrphanDisk({ cloud, store, signal }, 'zzz'), false);
    assert.deepEqual(cloud.calls, []);
  });
});
