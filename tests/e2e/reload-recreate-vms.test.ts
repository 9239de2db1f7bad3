// `recreate --strategy reload` of the SAME stemcell version with REAL refit-cpi-local VMs, the
// real agent and the director's own nats-server: 2 instances with persistent data on stemcell
// 1.1 (IaaS stemcell and generic stemcell 1.1 uploaded); a file dropped into each VM's root
// (drift, in the overlay's upper dir). `PUT /deployments/rrec/jobs/*?state=recreate&strategy=reload`
// (what `refit recreate --strategy reload` sends) keeps every CID, calls neither create_vm nor
// delete_vm, reboots each VM (boot count and boot id change), boots a freshly unpacked copy of
// the root (the boot state's committed root directory changes, the drift is gone), data
// byte-identical, jobs running. A second one stages yet another fresh directory.
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildRelease } from '@refit/testkit/release/build-release.ts';
import {
  buildStemcell,
  loopJob,
  oneAzCloudConfig,
  skipUnlessRoot,
  VmLab,
  webManifest,
} from './support/vm-lab.ts';

const manifest = webManifest({ name: 'rrec', stemcell: '1.1', watch: '500-10000' });

interface HostView {
  readonly boots: number;
  /** The committed root (null: the IaaS stemcell's own root). */
  readonly root: string | null;
  readonly pending: unknown;
  readonly drift: boolean;
}

describe(
  'recreate --strategy reload of the same stemcell version with real refit-cpi-local VMs',
  { skip: skipUnlessRoot },
  () => {
    let lab: VmLab | undefined;
    let cpiState = '';
    const need = () => lab ?? assert.fail('the director did not start');
    const vms = async () => (await need().vms('rrec')).sort((a, b) => a.vm_cid.localeCompare(b.vm_cid));
    const host = async (cid: string): Promise<HostView> => {
      const dir = join(cpiState, 'vms', cid);
      const status = JSON.parse(await readFile(join(dir, 'status.json'), 'utf8')) as { boots: number };
      const state = await readFile(join(dir, 'ephemeral/sys/boot/state.json'), 'utf8')
        .then((t) => JSON.parse(t) as { current: { root: string | null }; pending: unknown })
        .catch(() => null);
      const drift = await readFile(join(dir, 'upper/etc/refit-drift'), 'utf8').then(
        () => true,
        () => false,
      );
      return {
        boots: status.boots,
        root: state?.current.root ?? null,
        pending: state?.pending ?? null,
        drift,
      };
    };
    const diskData = () => need().diskData();
    const recreateReload = () => need().put('/deployments/rrec/jobs/*?state=recreate&strategy=reload');
    /** The agents commit the new root once their jobs run: wait for that (bounded). */
    const committed = async (cid: string) => {
      const deadline = Date.now() + 30_000;
      for (;;) {
        const view = await host(cid);
        if (view.pending === null) return view;
        if (Date.now() > deadline) throw new Error(`${cid}: the restaged root was not committed`);
        await new Promise((r) => setTimeout(r, 200));
      }
    };

    before(async () => {
      // The director's defaults (adaptive get_task polling), as an operator runs it.
      lab = await VmLab.start('reload-recreate-e2e', { directorConfig: { agent: {} } });
      cpiState = lab.cpiState;
      const v11 = await buildStemcell(lab.work, '1.1');
      await lab.upload('/stemcells', v11.stemcell);
      await lab.upload('/rootfs', v11.rootfs);
      const release = await buildRelease({
        name: 'app',
        version: '1',
        jobs: [loopJob({ marker: 'refit-reload-recreate-web', withData: true })],
        packages: [],
      });
      await lab.upload('/releases', release.tarball);
      await lab.updateCloudConfig(oneAzCloudConfig(54));
      const first = await lab.deploy(manifest);
      assert.equal(first.task.state, 'done', first.events);
    });

    after(async () => {
      await lab?.stop(['rrec']);
    });

    it('restages and reboots every VM in place, repairing its root; twice', async () => {
      const before = await vms();
      assert.equal(before.length, 2);
      const cids = before.map((v) => v.vm_cid);
      const data = await diskData();
      assert.equal(data.size, 2);
      let views = new Map<string, HostView>();
      for (const cid of cids) {
        // Drift: a file the stemcell does not have, in the VM's root (its overlay's upper dir).
        await mkdir(join(cpiState, 'vms', cid, 'upper/etc'), { recursive: true });
        await writeFile(join(cpiState, 'vms', cid, 'upper/etc/refit-drift'), 'drifted\n');
        views.set(cid, await host(cid));
        assert.equal(views.get(cid)?.drift, true);
      }
      let bootIds = new Map(before.map((v) => [v.vm_cid, v.booted_stemcell?.boot_id]));

      for (const round of [1, 2]) {
        const done = await recreateReload();
        assert.equal(done.task.state, 'done', done.events);
        assert.doesNotMatch(done.cpi, /create_vm|delete_vm/, `round ${round}: nothing at the IaaS`);
        assert.match(done.events, /restaging in full/);
        assert.match(done.events, /rebooting/);
        const after = await vms();
        assert.deepEqual(
          after.map((v) => v.vm_cid),
          cids,
          'every VM keeps its CID',
        );
        assert.deepEqual(await diskData(), data, 'persistent data byte-identical');
        for (const v of after) {
          assert.equal(v.job_state, 'running');
          assert.equal(v.stemcell?.version, '1.1');
          assert.equal(v.booted_stemcell?.version, '1.1');
          assert.ok(v.booted_stemcell?.boot_id, 'the agent reports its boot');
          assert.notEqual(v.booted_stemcell?.boot_id, bootIds.get(v.vm_cid), `${v.vm_cid}: a new boot`);
          const view = await committed(v.vm_cid);
          const previous = views.get(v.vm_cid)!;
          assert.ok(view.boots > previous.boots, `${v.vm_cid}: boot count ${previous.boots} → ${view.boots}`);
          assert.ok(view.root !== null, 'boots a staged root');
          assert.notEqual(view.root, previous.root, `${v.vm_cid}: a freshly staged root directory`);
          assert.match(view.root, new RegExp(`/roots/${v.booted_stemcell?.root_digest ?? 'x'}\\.${round}$`));
          assert.equal(view.drift, false, 'the drift is gone');
        }
        views = new Map(await Promise.all(cids.map(async (cid) => [cid, await host(cid)] as const)));
        bootIds = new Map(after.map((v) => [v.vm_cid, v.booted_stemcell?.boot_id]));
      }
    });
  },
);
