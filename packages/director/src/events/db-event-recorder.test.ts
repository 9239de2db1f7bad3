import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { EventItem } from '@refit/protocol';
import { coreMigration } from '../db/core-migration.ts';
import { testBackends, type TestDatabase } from '../db/test-databases.ts';
import { DbEventRecorder } from './db-event-recorder.ts';
import { parseTime } from './events-routes.ts';

describe('parseTime', () => {
  it('reads unix seconds and dates', () => {
    assert.equal(parseTime('after_time', '1700000000'), 1_700_000_000_000);
    assert.equal(parseTime('after_time', '2023-11-14T22:13:20Z'), 1_700_000_000_000);
    assert.throws(() => parseTime('after_time', 'yesterday'), /Invalid after_time/);
  });
});

for (const backend of testBackends()) {
  describe(`DbEventRecorder on ${backend.name}`, { skip: backend.skip }, () => {
    let t: TestDatabase;
    let now = 1_700_000_000_000;
    let recorder: DbEventRecorder;
    beforeEach(async () => {
      t = await backend.create({ migrations: [coreMigration] });
      recorder = new DbEventRecorder(t.db, () => now);
    });
    afterEach(() => t.cleanup());

    it('records events in BOSH shape and filters them, newest first', async () => {
      const parent = await recorder.record({
        action: 'create',
        objectType: 'stemcell',
        objectName: 'ubuntu/1',
        user: 'admin',
        task: 7,
      });
      now += 5000;
      await recorder.record({
        action: 'update',
        objectType: 'cloud-config',
        objectName: 'default',
        user: 'admin',
        parentId: parent,
        deployment: 'cf',
        context: { a: 1 },
        error: 'it failed',
      });
      const all = await recorder.list({ limit: 200 });
      assert.equal(all.length, 2);
      for (const item of all) EventItem.parse(item);
      assert.deepEqual(all[0], {
        id: all[0]?.id,
        parent_id: parent,
        timestamp: 1_700_000_005,
        user: 'admin',
        action: 'update',
        object_type: 'cloud-config',
        object_name: 'default',
        task: null,
        deployment: 'cf',
        instance: null,
        context: { a: 1 },
        error: 'it failed',
      });
      assert.equal(all[1]?.task, '7');
      const ids = async (query: Parameters<DbEventRecorder['list']>[0]) =>
        (await recorder.list(query)).map((e) => e.object_type);
      assert.deepEqual(await ids({ limit: 1 }), ['cloud-config']);
      assert.deepEqual(await ids({ limit: 200, beforeId: Number(all[0]?.id) }), ['stemcell']);
      assert.deepEqual(await ids({ limit: 200, afterMs: 1_700_000_001_000 }), ['cloud-config']);
      assert.deepEqual(await ids({ limit: 200, beforeMs: 1_700_000_001_000 }), ['stemcell']);
      assert.deepEqual(await ids({ limit: 200, task: '7' }), ['stemcell']);
      assert.deepEqual(await ids({ limit: 200, deployment: 'cf', action: 'update', user: 'admin' }), [
        'cloud-config',
      ]);
      assert.deepEqual(await ids({ limit: 200, objectType: 'stemcell', objectName: 'ubuntu/1' }), [
        'stemcell',
      ]);
      assert.deepEqual(await ids({ limit: 200, instance: 'x' }), []);
    });
  });
}
