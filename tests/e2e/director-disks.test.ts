// The orphaned-disk routes and `refit disks/delete-disk/orphan-disk/attach-disk` against the real
// refit-director with the test CPI (no VMs, no disk methods): a deployment with one running
// instance and its disk, and one orphan, written to the director's database as the updater
// records them. Checks credentials, the list as BOSH answers it and as the CLI shows it, and
// BOSH's refusals (each changing nothing). What leaves instances as orphans and attaching one
// back are covered in process (packages/director/src/disks/disks-feature.test.ts) and on real
// VMs (deploy-vms, deploy-disk-vms).
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { DirectorProcess } from '@refit/director/api/director-process.test-support.ts';
import { openDb } from '@refit/director/db/open-db.ts';
import type { RefitCli } from './support/refit-cli.ts';
import { startTestCpiDirector } from './support/test-cpi-director.ts';

const UUID = '5f3c1a3e-0000-4000-8000-000000000001';

describe('orphaned disks against refit-director (test CPI)', { timeout: 120_000 }, () => {
  let work: string;
  let director: DirectorProcess;
  let cli: RefitCli;

  const orphans = async () => (await director.request({ path: '/disks?orphaned=true' })).json<unknown[]>();
  const attached = async () => {
    const db = openDb({ url: null, stateDir: director.stateDir });
    try {
      return await db.query('SELECT cid, instance_id FROM persistent_disks ORDER BY cid');
    } finally {
      await db.close();
    }
  };
  const cpiMethods = async () =>
    (await readFile(join(work, 'cpi-state', 'calls.jsonl'), 'utf8').catch(() => ''))
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => (JSON.parse(line) as { method: string }).method)
      .filter((m) => m !== 'info');

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'refit-director-disks-'));
    ({ director, cli } = await startTestCpiDirector(work));
    const db = openDb({ url: null, stateDir: director.stateDir });
    try {
      await db.execute(
        "INSERT INTO deployments (name, manifest, cloud_config_id, created_at) VALUES ('dep', NULL, NULL, '2026-11-25T00:00:00.000Z')",
      );
      await db.execute(
        `INSERT INTO instances (id, deployment, group_name, idx, az, state, update_completed, hashes, created_at)
         VALUES ($1, 'dep', 'web', 0, 'z1', 'started', 1, '{}', '2026-11-25T00:00:00.000Z')`,
        [UUID],
      );
      await db.execute(
        "INSERT INTO persistent_disks (cid, instance_id, deployment, size, cloud_properties) VALUES ('disk-attached', $1, 'dep', 1024, '{}')",
        [UUID],
      );
      await db.execute(
        `INSERT INTO orphan_disks (disk_cid, size, cloud_properties, availability_zone, deployment_name, instance_name, cpi, created_at)
         VALUES ('disk-orphan', 2048, '{"type":"ssd"}', 'z1', 'dep', 'web/old-uuid', NULL, '2026-11-25T01:02:03.000Z')`,
      );
    } finally {
      await db.close();
    }
  });

  after(async () => {
    await director?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('refuses every disks route without credentials', async () => {
    for (const [method, path] of [
      ['GET', '/disks?orphaned=true'],
      ['DELETE', '/disks/disk-orphan'],
      ['DELETE', '/disks/disk-attached?orphan=true'],
      ['PUT', `/disks/disk-orphan/attachments?deployment=dep&job=web&instance_id=${UUID}`],
    ] as const) {
      const response = await director.request({ method, path, anonymous: true });
      assert.equal(response.status, 401, `${method} ${path}`);
    }
    assert.equal((await orphans()).length, 1);
  });

  it('lists the orphan as BOSH does, and as the stock table', async () => {
    assert.deepEqual(await orphans(), [
      {
        disk_cid: 'disk-orphan',
        size: 2048,
        az: 'z1',
        deployment_name: 'dep',
        instance_name: 'web/old-uuid',
        cloud_properties: { type: 'ssd' },
        orphaned_at: '2026-11-25 01:02:03 UTC',
      },
    ]);
    const shown = await cli.ok(['disks', '--orphaned']);
    assert.equal(
      shown.stdout,
      'disk-orphan\t2.0 GiB\tdep\tweb/old-uuid\tz1\tWed Nov 25 01:02:03 UTC 2026\t\n',
    );
  });

  it("refuses BOSH's way and changes nothing", async () => {
    const deleting = await cli.run(['-n', 'delete-disk', 'disk-attached']);
    assert.equal(deleting.code, 1);
    assert.match(deleting.stderr, /"code":520000,"description":"Deleting persistent disk is not supported/);

    const running = await cli.run(['-d', 'dep', 'attach-disk', `web/${UUID}`, 'disk-orphan']);
    assert.equal(running.code, 1);
    assert.match(running.stdout + running.stderr, /must be in 'bosh stopped' state/);

    const noDeployment = await cli.run(['-d', 'nope', 'attach-disk', `web/${UUID}`, 'disk-orphan']);
    assert.equal(noDeployment.code, 1);
    assert.match(noDeployment.stderr, /Deployment 'nope' doesn't exist/);

    const noInstance = await cli.run(['-d', 'dep', 'attach-disk', 'db/0', 'disk-orphan']);
    assert.equal(noInstance.code, 1);
    assert.match(noInstance.stdout + noInstance.stderr, /Instance 'db\/0' in deployment 'dep' was not found/);

    assert.equal((await orphans()).length, 1);
    assert.deepEqual(await attached(), [{ cid: 'disk-attached', instance_id: UUID }]);
    assert.deepEqual(await cpiMethods(), [], 'no CPI call');
  });

  it('delete-disk of an unknown cid succeeds, calling nothing, as BOSH', async () => {
    await cli.ok(['-n', 'delete-disk', 'vol-unknown']);
    assert.deepEqual(await cpiMethods(), []);
  });

  it('a CPI that fails delete_disk keeps the orphan listed, and the CLI fails', async () => {
    const failed = await cli.run(['-n', 'delete-disk', 'disk-orphan']);
    assert.equal(failed.code, 1);
    assert.deepEqual(await cpiMethods(), ['delete_disk'], 'the test CPI has no disk methods');
    assert.equal((await orphans()).length, 1);
  });
});
