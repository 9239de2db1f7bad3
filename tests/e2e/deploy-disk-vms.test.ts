// Persistent disk migration and vm_strategy create-swap-delete with REAL refit-cpi-local VMs and
// the real agent: 2 instances whose job writes 4 KiB of random data on its persistent disk.
// Growing `persistent_disk` migrates every disk in place (same VMs, new disk CIDs of the new
// size, same bytes; the old disks orphaned, as BOSH does); a stemcell bump with create-swap-delete
// gives every instance a new VM (with a fresh IP) created before the old one is deleted, with the
// same disk and bytes, the old VMs shut down (powered off) and orphaned with their addresses
// still reserved, then deleted by `clean-up` (POST /cleanup), leaving no VM behind; an orphan attached back onto a stopped instance
// (attach-disk) is its disk again, bytes intact; delete-deployment orphans the rest, and deleting
// the orphans leaves no disk.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { buildRelease } from '@refit/testkit/release/build-release.ts';
import {
  buildStemcell,
  loopJob,
  oneAzCloudConfig,
  sha256,
  skipUnlessRoot,
  startedTasks,
  VmLab,
} from './support/vm-lab.ts';

const marker = 'refit-diskvms-web';

function manifest(opts: { disk: number; stemcell: string }) {
  return stringify({
    name: 'ddep',
    releases: [{ name: 'app', version: 'latest' }],
    stemcells: [{ alias: 'default', os: 'refit-minimal', version: opts.stemcell }],
    update: {
      canaries: 1,
      max_in_flight: 1,
      canary_watch_time: '1000-10000',
      update_watch_time: '1000-10000',
      vm_strategy: 'create-swap-delete',
    },
    instance_groups: [
      {
        name: 'web',
        azs: ['z1'],
        instances: 2,
        jobs: [{ name: 'web', release: 'app', properties: {} }],
        vm_type: 'default',
        stemcell: 'default',
        persistent_disk: opts.disk,
        networks: [{ name: 'default' }],
      },
    ],
  });
}

interface InstanceLine {
  readonly id: string;
  readonly vm_cid: string | null;
  readonly disk_cid: string | null;
  readonly job_state: string;
  readonly ips: readonly string[];
}

describe('persistent disk migration and create-swap-delete with real VMs', { skip: skipUnlessRoot }, () => {
  let lab: VmLab | undefined;
  const need = () => lab ?? assert.fail('the director did not start');
  const deploy = (text: string) => need().deploy(text, '', 240_000);

  /** `GET /deployments/ddep/instances?format=full`, by instance id. */
  async function instances(): Promise<Map<string, InstanceLine>> {
    const director = need().director;
    const id = director.taskOf(await director.request('GET', '/deployments/ddep/instances?format=full'));
    assert.equal((await director.waitTask(id, 60_000)).state, 'done');
    const lines = (await director.output(id, 'result'))
      .trim()
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as InstanceLine);
    return new Map(lines.map((l) => [l.id, l]));
  }
  /** What refit-cpi-local recorded for a disk (its size is recorded, not enforced). */
  const diskSize = async (cid: string) =>
    (
      JSON.parse(await readFile(join(need().cpiState, 'disks', cid, 'disk.json'), 'utf8')) as {
        size_mib: number;
      }
    ).size_mib;
  /** The data checksums of the deployment's current disks. */
  const checksums = async () => {
    const data = await need().diskData();
    return [...(await instances()).values()].map((r) => data.get(r.disk_cid ?? '') ?? '-').sort();
  };
  const orphanDisks = async () =>
    (await need().director.request('GET', '/disks?orphaned=true')).json<
      { disk_cid: string; instance_name: string; size: number }[]
    >();

  before(async () => {
    // The scheduled orphaned VM cleanup (default every 5 minutes) is kept out of the way: this
    // suite looks at the orphaned VMs, then deletes them with clean-up.
    lab = await VmLab.start('disk-vms', { directorConfig: { vms: { cleanup_interval_seconds: 0 } } });
    const v1 = await buildStemcell(lab.work, '1');
    await buildStemcell(lab.work, '1.1');
    await lab.upload('/stemcells', v1.stemcell);
    const built = await buildRelease({
      name: 'app',
      version: '1',
      jobs: [loopJob({ marker, withData: true })],
      packages: [],
    });
    await lab.upload('/releases', built.tarball);
    await lab.updateCloudConfig(oneAzCloudConfig(56));
  });

  after(async () => {
    await lab?.stop(['ddep']);
  });

  it('deploys 2 instances whose persistent disks hold job data', async () => {
    const { task, events } = await deploy(manifest({ disk: 64, stemcell: '1' }));
    assert.equal(task.state, 'done', events);
    const rows = await instances();
    assert.equal(rows.size, 2);
    for (const row of rows.values()) {
      assert.equal(row.job_state, 'running');
      assert.notEqual(row.disk_cid, null);
      assert.equal(await diskSize(row.disk_cid ?? ''), 64);
    }
    assert.equal((await checksums()).length, 2);
  });

  it('a bigger persistent_disk migrates each disk: same VM, new disk of the new size, same bytes, old disk orphaned', async () => {
    const before = await instances();
    const data = await checksums();
    const oldDisks = [...before.values()].map((r) => r.disk_cid);
    const { task, events, cpi } = await deploy(manifest({ disk: 128, stemcell: '1' }));
    assert.equal(task.state, 'done', events);
    assert.equal(startedTasks(events).length, 2);
    const after = await instances();
    for (const [id, row] of before) {
      const now = after.get(id);
      assert.equal(now?.vm_cid, row.vm_cid, `${id} keeps its VM`);
      assert.notEqual(now?.disk_cid, row.disk_cid, `${id} got a new disk`);
      assert.equal(await diskSize(now?.disk_cid ?? ''), 128);
      assert.equal(now?.job_state, 'running');
    }
    const hostDisks = await need().hostDisks();
    assert.deepEqual(hostDisks, [...[...after.values()].map((r) => r.disk_cid), ...oldDisks].sort());
    const orphans = await orphanDisks();
    assert.deepEqual(
      orphans.map((o) => [o.disk_cid, o.instance_name, o.size]).sort(),
      [...before.values()].map((r) => [r.disk_cid, `web/${r.id}`, 64]).sort(),
      'old disks orphaned, not deleted',
    );
    assert.deepEqual(await checksums(), data, 'the data was copied, not written again');
    assert.equal((cpi.match(/create_disk/g) ?? []).length >= 2, true, cpi);

    const again = await deploy(manifest({ disk: 128, stemcell: '1' }));
    assert.equal(again.task.state, 'done', again.events);
    assert.deepEqual(startedTasks(again.events), [], 'converged: nothing to migrate');
  });

  it('create-swap-delete on a stemcell bump: new VMs created before any instance is touched, same disks and bytes, old VMs orphaned', async () => {
    await need().upload('/stemcells', join(need().work, 'sc-1.1/stemcell.tgz'));
    const before = await instances();
    const data = await checksums();
    const { task, events, cpi } = await deploy(manifest({ disk: 128, stemcell: '1.1' }));
    assert.equal(task.state, 'done', events);
    // Both replacement VMs exist (stage 'Creating missing vms') before the first old VM stops.
    const stages = events
      .split('\n')
      .filter((l) => l.includes('"state":"started"'))
      .map((l) => (JSON.parse(l) as { stage: string }).stage);
    const rollout = ['Creating missing vms', 'Downloading packages', 'Updating instance'];
    assert.deepEqual(
      [...new Set(stages)].filter((stage) => rollout.includes(stage)),
      rollout,
    );
    const after = await instances();
    for (const [id, row] of before) {
      const now = after.get(id);
      assert.notEqual(now?.vm_cid, row.vm_cid, `${id} got a new VM`);
      assert.equal(now?.disk_cid, row.disk_cid, `${id} keeps its disk`);
      // As BOSH: the new VM exists beside the old one, so it has a fresh address.
      assert.equal(now?.ips.length, 1);
      assert.ok(
        !row.ips.includes(now?.ips[0] ?? ''),
        `${id}: ${String(now?.ips)} is fresh (was ${String(row.ips)})`,
      );
      assert.equal(now?.job_state, 'running');
      assert.doesNotMatch(cpi, new RegExp(`delete_vm[^\\n]*${String(row.vm_cid)}`), 'orphaned, not deleted');
    }
    assert.deepEqual(await checksums(), data);
    // The old VMs: orphaned (BOSH's OrphanVmStep) with their instance and addresses, powered off.
    type Orphaned = { cid: string; instance_name: string; ip_addresses: string[]; deployment_name: string };
    const orphaned = (await need().director.request('GET', '/orphaned_vms')).json<Orphaned[]>();
    assert.deepEqual(
      orphaned.map((o) => [o.cid, o.instance_name, o.deployment_name, o.ip_addresses]).sort(),
      [...before].map(([id, row]) => [row.vm_cid, `web/${id}`, 'ddep', row.ips]).sort(),
    );
    const power = async (cid: string) =>
      (
        JSON.parse(await readFile(join(need().cpiState, 'vms', cid, 'status.json'), 'utf8')) as {
          power: string;
        }
      ).power;
    for (const o of orphaned) {
      // `shutdown` answers first and powers off after: waited for, bounded.
      const deadline = AbortSignal.timeout(60_000);
      while ((await power(o.cid)) !== 'off') {
        assert.ok(!deadline.aborted, `${o.cid} still ${await power(o.cid)} after shutdown`);
        await new Promise((r) => setTimeout(r, 250));
      }
    }
    // clean-up deletes them (as the scheduled cleanup does), and their addresses go with them.
    const reply = await need().director.request('POST', '/cleanup', {
      body: JSON.stringify({ config: { remove_all: false, keep_orphaned_disks: true } }),
      headers: { 'content-type': 'application/json' },
    });
    const cleanup = await need().director.waitTask(need().director.taskOf(reply), 120_000);
    assert.equal(cleanup.state, 'done', JSON.stringify(cleanup));
    assert.deepEqual((await need().director.request('GET', '/orphaned_vms')).json<Orphaned[]>(), []);
    assert.deepEqual(await need().hostVms(), [...after.values()].map((r) => r.vm_cid).sort(), 'no VM left');
  });

  it('attach-disk puts an orphan back onto a stopped instance: its disk again, bytes intact', async () => {
    const director = need().director;
    const [id, row] = [...(await instances()).entries()][0] ?? assert.fail('no instance');
    const orphan = (await orphanDisks()).find((o) => o.instance_name === `web/${id}`)?.disk_cid ?? '';
    assert.notEqual(orphan, '');
    // Bytes only the orphan holds (written on the host while it is attached nowhere).
    const bytes = randomBytes(4096);
    await writeFile(join(need().cpiState, 'disks', orphan, 'data', 'web', 'data'), bytes);
    const running = await director.request(
      'PUT',
      `/disks/${orphan}/attachments?deployment=ddep&job=web&instance_id=${id}`,
    );
    const refused = await director.waitTask(director.taskOf(running), 60_000);
    assert.equal(refused.state, 'error', 'a running instance is refused');
    const stopped = await need().put(`/deployments/ddep/jobs/web/${id}?state=stopped`);
    assert.equal(stopped.task.state, 'done', stopped.events);
    const attached = await need().put(
      `/disks/${orphan}/attachments?deployment=ddep&job=web&instance_id=${id}`,
    );
    assert.equal(attached.task.state, 'done', attached.events);
    assert.deepEqual(await need().cpi('get_disks', [row.vm_cid]), [orphan], 'attached on the IaaS');
    const orphans = (await orphanDisks()).map((o) => o.disk_cid);
    assert.ok(orphans.includes(row.disk_cid ?? ''), 'the disk it had is orphaned');
    assert.ok(!orphans.includes(orphan));
    // Started: the manifest's disk is bigger, so the disk is migrated, its bytes with it (as BOSH).
    const started = await need().put(`/deployments/ddep/jobs/web/${id}?state=started`);
    assert.equal(started.task.state, 'done', started.events);
    const now = (await instances()).get(id);
    assert.equal(now?.job_state, 'running');
    assert.equal(
      (await need().diskData()).get(now?.disk_cid ?? ''),
      sha256(bytes),
      "the orphan's bytes are the instance's data",
    );
  });

  it('delete-deployment orphans the disks; deleting the orphans leaves no VM and no disk', async () => {
    const director = need().director;
    const disks = await need().hostDisks();
    const id = director.taskOf(await director.request('DELETE', '/deployments/ddep'));
    assert.equal((await director.waitTask(id, 120_000)).state, 'done', await director.output(id, 'event'));
    assert.deepEqual(await need().hostVms(), []);
    const orphans = (await orphanDisks()).map((o) => o.disk_cid).sort();
    assert.deepEqual(orphans, disks, 'every disk kept, orphaned');
    for (const cid of orphans) {
      const deleted = director.taskOf(await director.request('DELETE', `/disks/${cid}`));
      assert.equal((await director.waitTask(deleted, 60_000)).state, 'done');
    }
    assert.deepEqual(await orphanDisks(), []);
    assert.deepEqual(await need().hostDisks(), []);
  });
});
