import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { coreMigration } from '../db/core-migration.ts';
import { testBackends, type TestDatabase } from '../db/test-databases.ts';
import { ConfigIdMismatch } from '../errors.ts';
import { ConfigStore, rubyTime } from './config-store.ts';

describe('rubyTime', () => {
  it("prints Ruby's Time#to_s in UTC", () => {
    assert.equal(rubyTime(Date.UTC(2026, 10, 24, 20, 31, 25, 900)), '2026-11-24 20:31:25 UTC');
  });
});

for (const backend of testBackends()) {
  describe(`ConfigStore on ${backend.name}`, { skip: backend.skip }, () => {
    let t: TestDatabase;
    let store: ConfigStore;
    beforeEach(async () => {
      t = await backend.create({ migrations: [coreMigration] });
      store = new ConfigStore(t.db);
    });
    afterEach(() => t.cleanup());

    it('versions updates, skipping identical content', async () => {
      const first = await store.create({ type: 'cloud', name: 'default', content: 'a: 1\n' });
      assert.equal(first.created, true);
      const same = await store.create({ type: 'cloud', name: 'default', content: 'a: 1\n' });
      assert.deepEqual(same, { row: first.row, created: false });
      const second = await store.create({ type: 'cloud', name: 'default', content: 'a: 2\n' });
      assert.equal(second.created, true);
      assert.ok(second.row.id > first.row.id);
      assert.equal((await store.latest('cloud', 'default'))?.content, 'a: 2\n');
    });

    it('refuses an update whose expected latest id is stale', async () => {
      const first = await store.create({
        type: 'runtime',
        name: 'dns',
        content: 'x: 1\n',
        expectedLatestId: '0',
      });
      await store.create({
        type: 'runtime',
        name: 'dns',
        content: 'x: 2\n',
        expectedLatestId: String(first.row.id),
      });
      await assert.rejects(
        store.create({
          type: 'runtime',
          name: 'dns',
          content: 'x: 3\n',
          expectedLatestId: String(first.row.id),
        }),
        (error: unknown) => error instanceof ConfigIdMismatch && error.httpStatus === 412,
      );
      assert.equal((await store.latest('runtime', 'dns'))?.content, 'x: 2\n');
    });

    it('lists the latest per type/name or the history, and deletes', async () => {
      await store.create({ type: 'cloud', name: 'default', content: 'a: 1\n' });
      await store.create({ type: 'cloud', name: 'default', content: 'a: 2\n' });
      await store.create({ type: 'runtime', name: 'dns', content: 'b: 1\n' });
      const latest = await store.list({ latest: true });
      assert.deepEqual(
        latest.map(({ row, current }) => [row.type, row.content, current]),
        [
          ['runtime', 'b: 1\n', true],
          ['cloud', 'a: 2\n', true],
        ],
      );
      const history = await store.list({ latest: false, type: 'cloud' });
      assert.deepEqual(
        history.map(({ row, current }) => [row.content, current]),
        [
          ['a: 2\n', true],
          ['a: 1\n', false],
        ],
      );
      assert.equal((await store.list({ latest: false, type: 'cloud', limit: 1 })).length, 1);
      assert.equal(await store.delete('cloud', 'default'), 2);
      assert.equal(await store.latest('cloud', 'default'), null);
      assert.equal(await store.delete('cloud', 'default'), 0);
      assert.deepEqual(
        (await store.list({ latest: true })).map(({ row }) => row.type),
        ['runtime'],
      );
    });
  });
}
