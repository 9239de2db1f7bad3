import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CpiErrorType } from '@refit/protocol';
import type { Cloud } from '../cpi-client/cloud.ts';
import { CpiCallError, CpiFailureKind } from '../cpi-client/cpi-call-error.ts';
import { testBackends, type TestDatabase } from '../db/test-databases.ts';
import { CpiCallFailed } from '../errors.ts';
import type { EnqueueRequest, TaskContext } from '../tasks/task-context.ts';
import { JsonEventLog } from '../tasks/json-event-log.ts';
import { orphanDisksMigration } from './015-orphan-disks.ts';
import { OrphanDiskStore } from './orphan-disk-store.ts';
import {
  enqueueOrphanedDiskCleanup,
  scheduledOrphanedDiskCleanupTask,
  scheduleOrphanedDiskCleanup,
} from './scheduled-orphaned-disk-cleanup.ts';

const NOW = Date.parse('2026-11-25T12:00:00.000Z');
const DAY = 24 * 60 * 60 * 1000;

function cloud(failing: ReadonlySet<string>): Cloud & { deleted: string[] } {
  const deleted: string[] = [];
  return {
    name: 'test',
    deleted,
    info: () => Promise.reject(new Error('unused')),
    call(_method, args) {
      const cid = String(args[0]);
      if (failing.has(cid)) {
        return Promise.reject(
          new CpiCallError('CPI error', {
            kind: CpiFailureKind.CpiError,
            method: 'delete_disk',
            requestId: null,
            cpiErrorType: CpiErrorType.CloudError,
          }),
        );
      }
      deleted.push(cid);
      return Promise.resolve(null);
    },
  };
}

const [sqlite] = testBackends();
describe('scheduled orphaned disk cleanup (BOSH ScheduledOrphanedDiskCleanup)', () => {
  let database: TestDatabase;
  let store: OrphanDiskStore;
  before(async () => {
    database = await sqlite!.create({ migrations: [orphanDisksMigration] });
    store = new OrphanDiskStore(database.db);
  });
  after(() => database?.cleanup());

  async function seed(ages: Record<string, number>) {
    await database.db.execute('DELETE FROM orphan_disks');
    for (const [cid, days] of Object.entries(ages)) {
      await database.db.execute(
        `INSERT INTO orphan_disks (disk_cid, size, cloud_properties, availability_zone, deployment_name, instance_name, cpi, created_at)
         VALUES ($1, 1, '{}', NULL, 'dep', 'web/1', NULL, $2)`,
        [cid, new Date(NOW - days * DAY).toISOString()],
      );
    }
  }
  const ctx = (lines: string[]): TaskContext => ({
    taskId: 1,
    user: 'scheduler',
    deployment: null,
    signal: new AbortController().signal,
    events: new JsonEventLog((line) => lines.push(line)),
    debug: { write: () => undefined },
    cpi: { write: () => undefined },
    result: { write: () => undefined },
  });

  it('deletes the orphans older than the age and keeps the younger ones', async () => {
    await seed({ old: 6, older: 30, young: 4 });
    const fake = cloud(new Set());
    const task = scheduledOrphanedDiskCleanupTask({ db: database.db, cloud: fake }, () => NOW);
    const lines: string[] = [];
    const done = await task.run(ctx(lines), task.parseParams({ max_orphaned_age_in_days: 5 }));
    assert.equal(
      done,
      'Deleted 2 orphaned disk(s) older than 2026-11-20T12:00:00.000Z. Failed to delete 0 disk(s).',
    );
    assert.deepEqual(fake.deleted.sort(), ['old', 'older']);
    assert.deepEqual(
      (await store.list()).map((d) => d.cid),
      ['young'],
    );
    assert.ok(lines.some((l) => l.includes('Deleting orphan disks')));
  });

  it('carries on past a failure, then fails the task naming the count', async () => {
    await seed({ a: 10, b: 9 });
    const fake = cloud(new Set(['a']));
    const task = scheduledOrphanedDiskCleanupTask({ db: database.db, cloud: fake }, () => NOW);
    await assert.rejects(
      task.run(ctx([]), { max_orphaned_age_in_days: 5 }),
      (error: unknown) =>
        error instanceof CpiCallFailed &&
        /Deleted 1 orphaned disk\(s\).*Failed to delete 1 disk\(s\)/.test(error.message),
    );
    assert.deepEqual(fake.deleted, ['b']);
    assert.deepEqual(
      (await store.list()).map((d) => d.cid),
      ['a'],
    );
  });

  it('queues a task only when an orphan is old enough', async () => {
    const queued: EnqueueRequest[] = [];
    const tasks = { enqueue: (r: EnqueueRequest) => Promise.resolve(queued.push(r)) };
    await seed({ young: 1 });
    assert.equal(await enqueueOrphanedDiskCleanup({ db: database.db, tasks }, 5, NOW), null);
    await seed({ old: 6 });
    assert.equal(await enqueueOrphanedDiskCleanup({ db: database.db, tasks }, 5, NOW), 1);
    assert.equal(queued[0]?.type, 'scheduled_orphaned_disk_cleanup');
    assert.equal(queued[0]?.description, 'scheduled ScheduledOrphanedDiskCleanup');
    assert.deepEqual(queued[0]?.params, { max_orphaned_age_in_days: 5 });
  });

  it('the timer queues the task; interval 0 schedules nothing', async () => {
    await seed({ old: 6 });
    const queued: EnqueueRequest[] = [];
    let wake: () => void = () => undefined;
    const first = new Promise<void>((resolve) => (wake = resolve));
    const tasks = {
      enqueue: (r: EnqueueRequest) => {
        queued.push(r);
        wake();
        return Promise.resolve(queued.length);
      },
    };
    const stop = scheduleOrphanedDiskCleanup(
      { db: database.db, tasks },
      { maxOrphanedAgeDays: 5, intervalMs: 10 },
      () => NOW,
    );
    const timeout = AbortSignal.timeout(10_000);
    await Promise.race([
      first,
      new Promise((_, reject) => timeout.addEventListener('abort', () => reject(new Error('no tick')))),
    ]);
    stop();
    assert.equal(queued[0]?.type, 'scheduled_orphaned_disk_cleanup');
    assert.equal(
      scheduleOrphanedDiskCleanup({ db: database.db, tasks }, { maxOrphanedAgeDays: 5, intervalMs: 0 })(),
      undefined,
      'interval 0: never scheduled',
    );
  });
});
