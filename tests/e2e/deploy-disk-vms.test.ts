// Persistent disk migration and vm_strategy create-swap-delete with REAL refit-cpi-local VMs and
// the real agent: 2 instances whose job writes 4 KiB of random data on its persistent disk.
// Growing `persistent_disk` migrates every disk in place (same VMs, new disk CIDs of the new
// size, old disks gone from the CPI, same bytes); a stemcell bump with create-swap-delete gives
// every instance a new VM (with a fresh IP) created before the old one is deleted, with the same
// disk and bytes, and leaves no VM behind.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { buildRelease } from '@refit/testkit/release/build-release.ts';
import {
  buildStemcell,
  loopJob,
  oneAzCloudConfig,
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
  const checksums = async () => [...(await need().diskData()).values()].sort();

  before(async () => {
    lab = await VmLab.start('disk-vms');
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

  it('a bigger persistent_disk migrates each disk: same VM, new disk of the new size, same bytes, old disk gone', async () => {
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
    assert.deepEqual(hostDisks, [...after.values()].map((r) => r.disk_cid).sort());
    assert.ok(
      oldDisks.every((cid) => cid !== null && !hostDisks.includes(cid)),
      'old disks deleted',
    );
    assert.deepEqual(await checksums(), data, 'the data was copied, not written again');
    assert.equal((cpi.match(/create_disk/g) ?? []).length >= 2, true, cpi);

    const again = await deploy(manifest({ disk: 128, stemcell: '1' }));
    assert.equal(again.task.state, 'done', again.events);
    assert.deepEqual(startedTasks(again.events), [], 'converged: nothing to migrate');
  });

  it('create-swap-delete on a stemcell bump: new VMs created before the old ones go, same disks and bytes', async () => {
    await need().upload('/stemcells', join(need().work, 'sc-1.1/stemcell.tgz'));
    const before = await instances();
    const data = await checksums();
    const { task, events, cpi } = await deploy(manifest({ disk: 128, stemcell: '1.1' }));
    assert.equal(task.state, 'done', events);
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
      // The replacement exists before the old VM is deleted.
      const created = cpi.indexOf(String(now?.vm_cid));
      const deleted = cpi.search(new RegExp(`delete_vm[^\\n]*${String(row.vm_cid)}`));
      assert.ok(created >= 0 && deleted > created, `${id}: create_vm before delete_vm\n${cpi}`);
    }
    assert.deepEqual(await checksums(), data);
    assert.deepEqual(await need().hostVms(), [...after.values()].map((r) => r.vm_cid).sort(), 'no VM left');
  });

  it('delete-deployment leaves no VM and no disk', async () => {
    const director = need().director;
    const id = director.taskOf(await director.request('DELETE', '/deployments/ddep'));
    assert.equal((await director.waitTask(id, 120_000)).state, 'done', await director.output(id, 'event'));
    assert.deepEqual(await need().hostVms(), []);
    assert.deepEqual(await need().hostDisks(), []);
  });
});
