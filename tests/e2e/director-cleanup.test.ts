// `refit clean-up` and `refit orphaned-vms` against the real refit-director with the test CPI (no
// VMs): four stemcell versions, four generic stemcells (rootfs) and three release versions, a
// deployment of zero instances using one of each (so it deploys without VMs and records what it
// uses), a leftover VM row as a create-swap-delete leaves one and an orphaned disk row.
// `clean-up` keeps what is used and the two newest unused versions of each name, `--all` keeps
// only what is used; the CPI's `delete_stemcell` is called for exactly the deleted stemcells;
// `--dry-run` changes nothing;
// a refusal part-way leaves the rest for the next run; orphaned disks go only with `--all` and
// without `--keep-orphaned-disks`; requests without credentials are refused.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import type { DirectorProcess } from '@refit/director/api/director-process.test-support.ts';
import { openDb } from '@refit/director/db/open-db.ts';
import { rootfsTgz, stemcellTgz } from '@refit/director/stemcells/upload-fixtures.test-support.ts';
import { buildRelease } from '@refit/testkit/release/build-release.ts';
import type { RefitCli } from './support/refit-cli.ts';
import { startTestCpiDirector } from './support/test-cpi-director.ts';

const VERSIONS = ['1.20', '1.21', '1.22', '1.23'];
const USED = '1.21';

interface Listed {
  readonly name: string;
  readonly version: string;
  readonly cid?: string;
}

describe('refit clean-up against refit-director (test CPI)', { timeout: 300_000 }, () => {
  let work: string;
  let director: DirectorProcess;
  let cli: RefitCli;
  const cids = new Map<string, string>();

  const stemcellVersions = async () =>
    (await director.request({ path: '/stemcells' }))
      .json<Listed[]>()
      .map((s) => s.version)
      .sort();
  const rootfsVersions = async () =>
    (await director.request({ path: '/rootfs' }))
      .json<Listed[]>()
      .map((r) => r.version)
      .sort();
  const releaseVersions = async () =>
    (await director.request({ path: '/releases' }))
      .json<{ name: string; release_versions: { version: string }[] }[]>()
      .flatMap((r) => r.release_versions.map((v) => `${r.name}/${v.version}`))
      .sort();
  const deletedStemcellCids = async () =>
    (await readFile(join(work, 'cpi-state', 'calls.jsonl'), 'utf8'))
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as { method: string; arguments: unknown[] })
      .filter((call) => call.method === 'delete_stemcell')
      .map((call) => String(call.arguments[0]))
      .sort();

  const taskOf = async (output: string) => {
    const id = /Task (\d+)/.exec(output)?.[1];
    assert.ok(id, output);
    return (await director.request({ path: `/tasks/${id}` })).json<{
      description: string;
      result: string;
      state: string;
    }>();
  };

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'refit-director-cleanup-'));
    ({ director, cli } = await startTestCpiDirector(work));
    for (const version of VERSIONS) {
      const stemcell = join(work, `stemcell-${version}.tgz`);
      await writeFile(stemcell, await stemcellTgz({ name: 'bosh-test-stemcell', version }));
      await cli.ok(['upload-stemcell', stemcell]);
      const rootfs = join(work, `rootfs-${version}.tgz`);
      await writeFile(rootfs, await rootfsTgz({ name: 'refit-generic-noble', version }));
      await cli.ok(['upload-rootfs', rootfs]);
    }
    for (const s of (await director.request({ path: '/stemcells' })).json<Listed[]>()) {
      cids.set(s.version, s.cid ?? '');
    }
    for (const version of ['1', '2', '3']) {
      const release = join(work, `app-${version}.tgz`);
      const built = await buildRelease({
        name: 'app',
        version,
        jobs: [{ name: 'idle', templates: { 'run.erb': `#!/bin/sh\necho ${version}\n` }, packages: [] }],
        packages: [],
      });
      await writeFile(release, built.tarball);
      await cli.ok(['upload-release', release]);
    }
    const cloudConfig = join(work, 'cloud.yml');
    await writeFile(
      cloudConfig,
      stringify({
        azs: [{ name: 'z1' }],
        vm_types: [{ name: 'default' }],
        networks: [
          {
            name: 'default',
            type: 'manual',
            subnets: [{ range: '127.0.64.0/24', gateway: '127.0.64.1', az: 'z1' }],
          },
        ],
        compilation: { workers: 1, az: 'z1', vm_type: 'default', network: 'default' },
      }),
    );
    await cli.ok(['-n', 'update-cloud-config', cloudConfig]);
    const manifest = join(work, 'app.yml');
    await writeFile(
      manifest,
      stringify({
        name: 'app',
        releases: [{ name: 'app', version: '2' }],
        stemcells: [{ alias: 'default', os: 'ubuntu-noble', version: USED }],
        update: { canaries: 1, max_in_flight: 1, canary_watch_time: 1000, update_watch_time: 1000 },
        instance_groups: [
          {
            name: 'idle',
            azs: ['z1'],
            instances: 0,
            jobs: [{ name: 'idle', release: 'app' }],
            vm_type: 'default',
            stemcell: 'default',
            networks: [{ name: 'default' }],
          },
        ],
      }),
    );
    await cli.ok(['-n', '-d', 'app', 'deploy', manifest]);
    // A leftover VM as a create-swap-delete that died leaves one (its VM is gone from the IaaS).
    const db = openDb({ url: null, stateDir: director.stateDir });
    try {
      await db.execute(
        'INSERT INTO leftover_vms (cid, deployment, instance_id, agent_id, ip_reservations, created_at) VALUES ($1, $2, $3, $4, $5, $6)',
        [
          'vm-leftover',
          'app',
          'gone-instance',
          'agent-1',
          JSON.stringify([
            {
              deployment: 'app',
              instanceId: 'gone-instance',
              network: 'default',
              ip: '127.0.64.9',
              type: 'dynamic',
            },
          ]),
          '2026-11-25T01:02:03.000Z',
        ],
      );
      // An orphaned disk, as the disks feature keeps one when an instance goes.
      await db.execute(
        `INSERT INTO orphan_disks (disk_cid, size, cloud_properties, availability_zone, deployment_name, instance_name, cpi, created_at)
         VALUES ('disk-orphan', 2048, '{}', 'z1', 'app', 'db/0', NULL, '2026-11-25T01:02:04.000Z')`,
      );
    } finally {
      await db.close();
    }
  });

  after(async () => {
    await director?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('refuses every clean-up route without credentials', async () => {
    for (const [method, path] of [
      ['POST', '/cleanup'],
      ['GET', '/cleanup/dryrun'],
      ['GET', '/orphaned_vms'],
    ] as const) {
      const response = await director.request({
        method,
        path,
        anonymous: true,
        ...(method === 'POST'
          ? { body: '{"config":{"remove_all":true}}', headers: { 'content-type': 'application/json' } }
          : {}),
      });
      assert.equal(response.status, 401, `${method} ${path}`);
    }
    assert.deepEqual(await stemcellVersions(), VERSIONS);
  });

  it('lists the leftover VM as an orphaned VM, in BOSH shape and as a table', async () => {
    const listed = (await director.request({ path: '/orphaned_vms' })).json<unknown[]>();
    assert.deepEqual(listed, [
      {
        az: null,
        cid: 'vm-leftover',
        deployment_name: 'app',
        instance_name: 'gone-instance',
        ip_addresses: ['127.0.64.9'],
        orphaned_at: '2026-11-25 01:02:03 UTC',
      },
    ]);
    const shown = await cli.ok(['orphaned-vms']);
    assert.equal(
      shown.stdout,
      'vm-leftover\tapp\tgone-instance\t-\t127.0.64.9\tWed Nov 25 01:02:03 UTC 2026\t\n',
    );
  });

  it('--dry-run shows what would go and changes nothing', async () => {
    const dry = (await director.request({ path: '/cleanup/dryrun' })).json<{
      releases: unknown[];
      stemcells: Listed[];
      rootfs: Listed[];
      compiled_packages: unknown[];
      orphaned_vms: { cid: string }[];
      orphaned_disks: unknown[];
    }>();
    assert.deepEqual(dry.releases, []);
    assert.deepEqual(
      dry.stemcells.map((s) => s.version),
      ['1.20'],
    );
    assert.deepEqual(
      dry.rootfs.map((r) => r.version),
      ['1.20'],
    );
    assert.deepEqual(
      dry.orphaned_vms.map((vm) => vm.cid),
      ['vm-leftover'],
    );
    const all = (await director.request({ path: '/cleanup/dryrun?remove_all=true' })).json<{
      releases: { name: string; versions: string[] }[];
      stemcells: Listed[];
      orphaned_disks: unknown[];
    }>();
    // Orphaned disks only with remove_all, and not with keep_orphaned_disks (as BOSH).
    assert.deepEqual(dry.orphaned_disks, []);
    assert.deepEqual(all.orphaned_disks, [
      {
        disk_cid: 'disk-orphan',
        size: 2048,
        az: 'z1',
        deployment_name: 'app',
        instance_name: 'db/0',
        cloud_properties: {},
        orphaned_at: '2026-11-25 01:02:04 UTC',
      },
    ]);
    const kept = (
      await director.request({ path: '/cleanup/dryrun?remove_all=true&keep_orphaned_disks=true' })
    ).json<{ orphaned_disks: unknown[] }>();
    assert.deepEqual(kept.orphaned_disks, []);
    assert.deepEqual(all.releases, [{ name: 'app', versions: ['1', '3'] }]);
    assert.deepEqual(
      all.stemcells.map((s) => s.version),
      ['1.20', '1.22', '1.23'],
    );

    const shown = await cli.ok(['--tty', 'clean-up', '--all', '--dry-run']);
    assert.match(shown.stdout, /Unused Releases\n\nName\s+Version\s*\napp\s+1\s*\n~?\s*(app\s+)?3/);
    assert.match(shown.stdout, /Unused Stemcells\n\nName\s+Version\s*\nbosh-test-stemcell\s+1\.20/);
    assert.match(
      shown.stdout,
      /Orphaned VMs\n\nVM CID\s+Deployment\s+Instance\s*\nvm-leftover\s+app\s+gone-instance/,
    );

    assert.deepEqual(await stemcellVersions(), VERSIONS);
    assert.deepEqual(await rootfsVersions(), VERSIONS);
    assert.deepEqual(await releaseVersions(), ['app/1', 'app/2', 'app/3']);
    assert.deepEqual(await deletedStemcellCids(), []);
    assert.equal((await director.request({ path: '/orphaned_vms' })).json<unknown[]>().length, 1);
  });

  it('clean-up keeps what is used and the two newest unused versions', async () => {
    const run = await cli.ok(['-n', 'clean-up']);
    assert.match(run.stdout, /Deleting orphaned vms: vm-leftover/);
    assert.match(run.stdout, /Deleting stemcells: bosh-test-stemcell\/1\.20/);
    assert.match(run.stdout, /Deleting root filesystems: refit-generic-noble\/1\.20/);
    assert.deepEqual(await stemcellVersions(), ['1.21', '1.22', '1.23']);
    assert.deepEqual(await rootfsVersions(), ['1.21', '1.22', '1.23']);
    assert.deepEqual(await releaseVersions(), ['app/1', 'app/2', 'app/3']);
    assert.deepEqual(await deletedStemcellCids(), [cids.get('1.20')]);
    assert.deepEqual((await director.request({ path: '/orphaned_vms' })).json<unknown[]>(), []);

    const task = await taskOf(run.stdout);
    assert.equal(task.description, 'clean up');
    assert.equal(task.state, 'done');
    assert.equal(
      task.result,
      'Deleted 0 release(s), 1 stemcell(s), 0 extra compiled package(s), 0 orphaned disk(s), 1 orphaned vm(s), 1 root filesystem(s)',
    );
  });

  it('clean-up --all failing part-way leaves the rest listed; the next run keeps only what is used', async () => {
    // The CPI refuses the first delete_stemcell: releases (deleted before stemcells) go, the
    // stemcells and root filesystems stay, and the dry run still lists them.
    const config = join(work, 'test-cpi.json');
    await writeFile(
      `${config}.tmp`,
      JSON.stringify({
        state_dir: join(work, 'cpi-state'),
        faults: { delete_stemcell: { fault: 'cloud_error', times: 1 } },
      }),
    );
    await rename(`${config}.tmp`, config);
    const failed = await cli.run(['-n', 'clean-up', '--all', '--keep-orphaned-disks']);
    assert.equal(failed.code, 1, failed.stdout);
    assert.equal((await taskOf(failed.stdout)).state, 'error');
    assert.deepEqual(await releaseVersions(), ['app/2']);
    assert.deepEqual(await stemcellVersions(), ['1.21', '1.22', '1.23']);
    assert.deepEqual(await rootfsVersions(), ['1.21', '1.22', '1.23']);
    const left = (await director.request({ path: '/cleanup/dryrun?remove_all=true' })).json<{
      stemcells: Listed[];
      rootfs: Listed[];
    }>();
    assert.deepEqual(
      [left.stemcells.map((s) => s.version), left.rootfs.map((r) => r.version)],
      [
        ['1.22', '1.23'],
        ['1.22', '1.23'],
      ],
    );

    const run = await cli.ok(['-n', 'clean-up', '--all', '--keep-orphaned-disks']);
    assert.deepEqual(await stemcellVersions(), [USED]);
    assert.deepEqual(await rootfsVersions(), [USED]);
    assert.deepEqual(await releaseVersions(), ['app/2']);
    // 1.22 twice: the refused call, then the one that deleted it.
    assert.deepEqual(
      await deletedStemcellCids(),
      [cids.get('1.20'), cids.get('1.22'), cids.get('1.22'), cids.get('1.23')].sort(),
    );
    const task = await taskOf(run.stdout);
    assert.equal(task.description, 'clean up all');
    assert.equal(
      task.result,
      'Deleted 0 release(s), 2 stemcell(s), 0 extra compiled package(s), 0 orphaned disk(s), 0 orphaned vm(s), 2 root filesystem(s)',
    );

    const disks = (await director.request({ path: '/disks' })).json<{ disk_cid: string }[]>();
    assert.deepEqual(
      disks.map((d) => d.disk_cid),
      ['disk-orphan'],
    );

    // Only the orphaned disk is left. The test CPI has no delete_disk (disk deletion is tested
    // in process, cleanup-task.test.ts): the call is made, fails, and the disk stays listed.
    const dry = (await director.request({ path: '/cleanup/dryrun?remove_all=true' })).json<{
      releases: unknown[];
      stemcells: unknown[];
      rootfs: unknown[];
      orphaned_disks: { disk_cid: string }[];
    }>();
    assert.deepEqual(
      [dry.releases, dry.stemcells, dry.rootfs, dry.orphaned_disks.map((d) => d.disk_cid)],
      [[], [], [], ['disk-orphan']],
    );
    const disk = await cli.run(['-n', 'clean-up', '--all']);
    assert.equal(disk.code, 1, disk.stdout);
    assert.match(disk.stdout, /Deleting orphaned disks: disk-orphan/);
    const calls = (await readFile(join(work, 'cpi-state', 'calls.jsonl'), 'utf8'))
      .split('\n')
      .filter((line) => line.includes('"delete_disk"'))
      .map((line) => (JSON.parse(line) as { arguments: unknown[] }).arguments[0]);
    assert.deepEqual(calls, ['disk-orphan']);
    assert.equal((await director.request({ path: '/disks' })).json<unknown[]>().length, 1);
  });
});
