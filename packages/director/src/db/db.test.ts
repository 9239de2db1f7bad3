import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { coreMigration } from './core-migration.ts';
import type { Migration } from './db.ts';
import { directorUuid } from './director-meta.ts';
import { idColumn, runMigrations } from './migrate.ts';
import { toSqlitePlaceholders } from './sqlite-db.ts';
import { testBackends, type TestDatabase } from './test-databases.ts';

const widgets: Migration = {
  id: '900-widgets',
  up: (dialect) => [`CREATE TABLE widgets (${idColumn(dialect)}, name TEXT NOT NULL, size BIGINT)`],
};

describe('toSqlitePlaceholders', () => {
  it('rewrites $n to ?n', () => {
    assert.equal(toSqlitePlaceholders('SELECT $1, $12 WHERE a = $2'), 'SELECT ?1, ?12 WHERE a = ?2');
  });
});

for (const backend of testBackends()) {
  describe(`Db on ${backend.name}`, { skip: backend.skip }, () => {
    let t: TestDatabase;
    beforeEach(async () => {
      t = await backend.create({ migrations: [coreMigration, widgets] });
    });
    afterEach(() => t.cleanup());

    it('inserts with RETURNING and reads integers back as numbers', async () => {
      const [row] = await t.db.query<{ id: number }>(
        'INSERT INTO widgets (name, size) VALUES ($1, $2) RETURNING id',
        ['a', 2 ** 40],
      );
      assert.equal(typeof row?.id, 'number');
      const rows = await t.db.query(
        'SELECT id, name, size, COUNT(*) OVER () AS n FROM widgets WHERE name = $1',
        ['a'],
      );
      assert.deepEqual(rows, [{ id: row?.id, name: 'a', size: 2 ** 40, n: 1 }]);
    });

    it('reuses a placeholder and reports rowCount', async () => {
      await t.db.execute('INSERT INTO widgets (name, size) VALUES ($1, $2), ($1, $3)', ['x', 1, 2]);
      const { rowCount } = await t.db.execute('UPDATE widgets SET size = size + $1 WHERE name = $2', [
        10,
        'x',
      ]);
      assert.equal(rowCount, 2);
      const rows = await t.db.query<{ size: number }>('SELECT size FROM widgets ORDER BY size');
      assert.deepEqual(
        rows.map((r) => r.size),
        [11, 12],
      );
    });

    it('commits a transaction and rolls one back when it throws', async () => {
      await t.db.transaction(async (tx) => {
        await tx.execute('INSERT INTO widgets (name) VALUES ($1)', ['kept']);
      });
      await assert.rejects(
        t.db.transaction(async (tx) => {
          await tx.execute('INSERT INTO widgets (name) VALUES ($1)', ['dropped']);
          throw new Error('boom');
        }),
        /boom/,
      );
      const rows = await t.db.query<{ name: string }>('SELECT name FROM widgets');
      assert.deepEqual(
        rows.map((r) => r.name),
        ['kept'],
      );
    });

    it('rolls back only the inner part of a nested transaction', async () => {
      await t.db.transaction(async (tx) => {
        await tx.execute('INSERT INTO widgets (name) VALUES ($1)', ['outer']);
        await assert.rejects(
          tx.transaction(async (inner) => {
            await inner.execute('INSERT INTO widgets (name) VALUES ($1)', ['inner']);
            throw new Error('inner fails');
          }),
        );
      });
      const rows = await t.db.query<{ name: string }>('SELECT name FROM widgets');
      assert.deepEqual(
        rows.map((r) => r.name),
        ['outer'],
      );
    });

    it('serialises concurrent transactions (no lost update)', async () => {
      await t.db.execute('INSERT INTO widgets (name, size) VALUES ($1, $2)', ['counter', 0]);
      await Promise.all(
        Array.from({ length: 20 }, () =>
          t.db.transaction(async (tx) => {
            const lock = tx.dialect === 'postgres' ? ' FOR UPDATE' : '';
            const [row] = await tx.query<{ size: number }>(
              `SELECT size FROM widgets WHERE name = $1${lock}`,
              ['counter'],
            );
            await new Promise((resolve) => setImmediate(resolve));
            await tx.execute('UPDATE widgets SET size = $1 WHERE name = $2', [
              (row?.size ?? 0) + 1,
              'counter',
            ]);
          }),
        ),
      );
      const [row] = await t.db.query<{ size: number }>('SELECT size FROM widgets WHERE name = $1', [
        'counter',
      ]);
      assert.equal(row?.size, 20);
    });

    it('applies migrations once and records them', async () => {
      const applied = await runMigrations(t.db, [coreMigration, widgets]);
      assert.deepEqual(applied, []);
      const extra: Migration = { id: '901-gadgets', up: () => ['CREATE TABLE gadgets (name TEXT)'] };
      assert.deepEqual(await runMigrations(t.db, [coreMigration, widgets, extra]), ['901-gadgets']);
      const rows = await t.db.query<{ id: string }>('SELECT id FROM schema_migrations ORDER BY id');
      assert.deepEqual(
        rows.map((r) => r.id),
        ['001-core', '900-widgets', '901-gadgets'],
      );
    });

    it('leaves no trace of a migration that fails', async () => {
      const broken: Migration = {
        id: '902-broken',
        up: () => ['CREATE TABLE half (a TEXT)', 'NOT SQL AT ALL'],
      };
      await assert.rejects(runMigrations(t.db, [broken]));
      const recorded = await t.db.query('SELECT id FROM schema_migrations WHERE id = $1', ['902-broken']);
      assert.equal(recorded.length, 0);
      await t.db.execute('CREATE TABLE half (a TEXT)');
    });

    it('generates the director uuid once', async () => {
      const first = await directorUuid(t.db);
      assert.match(first, /^[0-9a-f-]{36}$/);
      assert.equal(await directorUuid(t.db), first);
    });
  });
}
