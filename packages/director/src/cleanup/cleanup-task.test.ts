// The cleanup task in process, on a real database (SQLite, and PostgreSQL when configured), with
// a hand-written cloud that records its calls: orphaned VMs and orphaned disks (which the test
// CPI of the end-to-end suite cannot delete), compiled packages of stemcells gone, what the
// task's locks cover, the stages and the result line.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { LocalDirBlobstore } from '../blobstore/local-dir-blobstore.ts';
import type { Cloud } from '../cpi-client/cloud.ts';
import { coreMigration } from '../db/core-migration.ts';
import { testBackends, type TestDatabase } from '../db/test-databases.ts';
import { deploymentsFeature } from '../deployments/index.ts';
import { orphanDisksMigration } from '../disks/index.ts';
import type { EventRecorder } from '../feature.ts';
import { releasesFeature } from '../releases/index.ts';
import { rootfsFeature } from '../rootfs/index.ts';
import { stemcellsFeature } from '../stemcells/index.ts';
import { JsonEventLog } from '../tasks/json-event-log.ts';
import type { TaskContext } from '../tasks/task-context.ts';
import { cleanupTask, type CleanupParams } from './cleanup-task.ts';
import { orphanedDisks } from './orphaned-disks.ts';

const migrations = [
  coreMigration,
  ...[
    stemcellsFeature,
    rootfsFeature,
    releasesFeature,
    deploymentsFeature({
      agents: () => {
        throw new Error('no agents in this test');
      },
    }),
  ].flatMap((f) => f.migrations),
  orphanDisksMigration,
];

const noEvents: EventRecorder = { record: () => Promise.resolve('0') };

function recordingCloud(): Cloud & { calls: string[] } {
  const calls: string[] = [];
  return {
    name: 'test',
    calls,
    info: () => Promise.reject(new Error('unused')),
    call(method, args) {
      calls.push(`${method} ${String(args[0])}`);
      return Promise.resolve(null);
    },
  };
}

function context(lines: string[]): TaskContext {
  const log = { write: () => undefined };
  return {
    taskId: 1,
    user: 'admin',
    deployment: null,
    signal: AbortSignal.timeout(30_000),
    events: new JsonEventLog((line) => lines.push(line)),
    debug: log,
    cpi: log,
    result: log,
  };
}

const nothingLocked = { stemcells: [], rootfs: [], deployments: [], disks: [] };

for (const backend of testBackends()) {
  describe(`cleanup task on ${backend.name}`, { skip: backend.skip }, () => {
    let database: TestDatabase;
    let blobDir: string;
    let blobstore: LocalDirBlobstore;
    let compiledBlob: string;

    beforeEach(async () => {
      database = await backend.create({ migrations });
      blobDir = await mkdtemp(join(tmpdir(), 'refit-cleanup-blobs-'));
      blobstore = new LocalDirBlobstore(blobDir);
      await blobstore.start();
      compiledBlob = (await blobstore.put(Readable.from([Buffer.from('compiled bits')]))).id;
      const db = database.db;
      for (const [id, version] of [
        [1, '1.1'],
        [2, '2.1'],
      ] as const) {
        await db.execute(
          `INSERT INTO stemcells (id, name, version, operating_system, cpi, cid, sha1, api_version, created_at)
           VALUES ($1, 'ubuntu', $2, 'ubuntu-noble', 'test', $3, 'x', 3, '2026-01-01T00:00:00Z')`,
          [id, version, `sc-${version}`],
        );
      }
      await db.execute("INSERT INTO stemcell_usages (stemcell_id, deployment) VALUES (2, 'app')");
      await db.execute(
        `INSERT INTO compiled_packages (package_name, package_fingerprint, dependency_key, stemcell_os, stemcell_version, build, sha1, blobstore_id, created_at)
         VALUES ('libc', 'fp', '[]', 'ubuntu-noble', '1.0', 1, 'x', $1, '2026-01-01T00:00:00Z')`,
        [compiledBlob],
      );
      await db.execute(
        `INSERT INTO leftover_vms (cid, deployment, instance_id, agent_id, ip_reservations, created_at)
         VALUES ('vm-left', 'app', 'i-1', 'agent-1', '[]', '2026-01-01T00:00:00Z')`,
      );
      await db.execute(
        `INSERT INTO orphan_disks (disk_cid, size, cloud_properties, availability_zone, deployment_name, instance_name, cpi, created_at)
         VALUES ('disk-1', 1024, '{}', 'z1', 'app', 'db/1', NULL, '2026-01-01T00:00:00Z')`,
      );
    });
    afterEach(async () => {
      await database?.cleanup();
      if (blobDir) await rm(blobDir, { recursive: true, force: true });
    });

    async function run(params: CleanupParams, cloud = recordingCloud()) {
      const deps = { db: database.db, cloud, blobstore, events: noEvents };
      const lines: string[] = [];
      const result = await cleanupTask(deps, orphanedDisks(deps)).run(context(lines), params);
      const stages = [
        ...new Set(
          lines.map((l) => JSON.parse(l) as { stage?: string; state?: string }).map((e) => e.stage ?? ''),
        ),
      ];
      return { result, calls: cloud.calls, stages };
    }

    const count = async (table: string) =>
      Number((await database.db.query<{ n: number }>(`SELECT COUNT(*) AS n FROM ${table}`))[0]?.n);

    it('--all deletes the orphaned VM, the unused stemcell, its compiled packages and the orphaned disk', async () => {
      const done = await run({
        remove_all: true,
        keep_orphaned_disks: false,
        locked: { stemcells: ['ubuntu/1.1'], rootfs: [], deployments: ['app'], disks: ['disk-1'] },
      });
      assert.equal(
        done.result,
        'Deleted 0 release(s), 1 stemcell(s), 1 extra compiled package(s), 1 orphaned disk(s), 1 orphaned vm(s), 0 root filesystem(s)',
      );
      assert.deepEqual(done.calls, ['delete_vm vm-left', 'delete_stemcell sc-1.1', 'delete_disk disk-1']);
      assert.deepEqual(done.stages, [
        'Deleting orphaned vms',
        'Deleting stemcells',
        'Deleting compiled packages',
        'Deleting orphaned disks',
      ]);
      // The compiled package was compiled for 1.0: once 1.1 is gone, 2.1 (another major line) cannot use it.
      assert.deepEqual(
        [await count('stemcells'), await count('leftover_vms'), await count('orphan_disks')],
        [1, 0, 0],
      );
      assert.equal(await count('compiled_packages'), 0);
      assert.equal(await blobstore.stat(compiledBlob), null);
    });

    it('keeps compiled packages a remaining stemcell of the same major line can use', async () => {
      await database.db.execute("UPDATE compiled_packages SET stemcell_version = '2.0'");
      const done = await run({
        remove_all: true,
        keep_orphaned_disks: true,
        locked: { ...nothingLocked, stemcells: ['ubuntu/1.1'] },
      });
      assert.match(done.result, /^Deleted 0 release\(s\), 1 stemcell\(s\), 0 extra compiled package\(s\), /);
      assert.equal(await count('compiled_packages'), 1);
    });

    it('keeps orphaned disks without --all or with --keep-orphaned-disks', async () => {
      const locked = { ...nothingLocked, disks: ['disk-1'] };
      await run({ remove_all: false, keep_orphaned_disks: false, locked });
      await run({ remove_all: true, keep_orphaned_disks: true, locked });
      assert.equal(await count('orphan_disks'), 1);
      assert.equal(await count('compiled_packages'), 1);
    });

    it('deletes nothing its locks do not cover: that waits for the next clean-up', async () => {
      const done = await run({ remove_all: true, keep_orphaned_disks: false, locked: nothingLocked });
      assert.deepEqual(done.calls, []);
      assert.deepEqual(
        [await count('stemcells'), await count('leftover_vms'), await count('orphan_disks')],
        [2, 1, 1],
      );
      // A compiled package the stemcell left for later could use stays with it.
      assert.equal(await count('compiled_packages'), 1);
    });
  });
}
