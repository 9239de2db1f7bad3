// Resurrection after an OS reload, with real refit-cpi-local VMs, the real agent, the director's
// own nats-server and refit-hm: two instances with persistent data deployed on stemcell 1, then
// reloaded in place to stemcell 2 (`POST /deployments?strategy=reload`). One VM is then lost at
// the IaaS (its supervisor and every process SIGKILLed; the CPI's records stay, so only has_vm
// tells). refit-hm alerts the silent agent and asks scan_and_fix; the director (configured with
// `scan_and_fix.auto_fix_stateful_nodes`, as is the monitor) recreates the instance from the IaaS
// stemcell 2 — the version it runs now, not the 1 it was first deployed on — re-attaches its disk
// with the same bytes, and the new VM's agent reports 2 from the root it booted.
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { HmAlert } from '@refit/protocol';
import { buildRelease } from '@refit/testkit/release/build-release.ts';
import { HmProcess } from '../../packages/hm/src/testing/hm-process.ts';
import {
  buildStemcell,
  loopJob,
  loseVm,
  oneAzCloudConfig,
  sha256,
  skipUnlessRoot,
  VmLab,
  webManifest,
} from './support/vm-lab.ts';

const manifest = (stemcell: string) => webManifest({ name: 'hmrdep', stemcell, watch: '1000-30000' });

describe(
  'refit-hm resurrects a lost VM after a reload: on the stemcell it runs now',
  { timeout: 1_800_000, skip: skipUnlessRoot },
  () => {
    let lab: VmLab | undefined;
    let hm: HmProcess | undefined;
    const need = () => lab ?? assert.fail('the director did not start');
    const deploy = async (text: string, query = '') => {
      const run = await need().deploy(text, query, 900_000);
      assert.equal(run.task.state, 'done', run.events);
    };
    const vms = () => need().vms('hmrdep');
    const checksum = async (diskCid: string) =>
      sha256(await readFile(join(need().cpiState, 'disks', diskCid, 'data/web/data')));

    before(async () => {
      lab = await VmLab.start('hm-reload', {
        directorConfig: {
          agent: { task_poll_interval_seconds: 0.2 },
          scan_and_fix: { auto_fix_stateful_nodes: true },
        },
      });
      // Heartbeats every 5 s (BOSH's agents: 30 s) so a lost agent times out in seconds.
      const fast = { name: 'refit-hm-reload-e2e', extra: ['--heartbeat-interval', '5'] };
      const v1 = await buildStemcell(lab.work, '1', fast);
      const v2 = await buildStemcell(lab.work, '2', fast);
      await lab.upload('/stemcells', v1.stemcell);
      const release = await buildRelease({
        name: 'app',
        version: '1',
        jobs: [loopJob({ marker: 'refit-hm-reload-web', withData: true })],
      });
      await lab.upload('/releases', release.tarball);
      await lab.updateCloudConfig(oneAzCloudConfig(74));
      await deploy(manifest('1'));
      await lab.upload('/stemcells', v2.stemcell);
      await lab.upload('/rootfs', v2.rootfs);
    });

    after(async () => {
      await hm?.stop();
      await lab?.stop(['hmrdep']);
    });

    it('reloads to 2 in place, then a lost VM comes back on 2 with its persistent data', async () => {
      const onV1 = await vms();
      assert.equal(onV1.length, 2);
      assert.ok(onV1.every((l) => l.stemcell?.version === '1'));
      await deploy(manifest('2'), '?strategy=reload');
      const onV2 = await vms();
      assert.deepEqual(
        onV2.map((l) => l.vm_cid).sort(),
        onV1.map((l) => l.vm_cid).sort(),
        'reloaded in place',
      );
      for (const l of onV2) {
        assert.equal(l.job_state, 'running');
        assert.equal(l.stemcell?.version, '2');
        assert.equal(l.booted_stemcell?.version, '2');
      }

      const config = join(need().work, 'hm.yml');
      // Agents heartbeat every 5 s: the timeout is three beats.
      await writeFile(
        config,
        'intervals: {poll_director: 1, analyze_agents: 2, poll_grace_period: 1, agent_timeout: 15}\n' +
          'resurrector: {auto_fix_stateful_nodes: true}\n',
      );
      hm = HmProcess.spawn([
        '--config',
        config,
        '--director-state-dir',
        need().stateDir,
        '--director-url',
        `https://127.0.0.1:${need().director.port}`,
        '--resurrector',
        'on',
      ]);
      await hm.waitFor('ready', (l) => l.msg === 'hm ready', 60_000);

      const [victim] = [...onV2].sort((a, b) => a.id.localeCompare(b.id));
      assert.ok(victim);
      const [disk] = (await need().cpi('get_disks', [victim.vm_cid])) as string[];
      assert.ok(disk);
      const data = await checksum(disk);
      // Lost at the IaaS: the supervisor and every process of the VM, its records left behind.
      await loseVm(need().stateDir, victim.vm_cid);

      const timedOut = await hm.waitFor(
        'the timeout alert',
        (l) => l.msg === 'alert' && /has timed out$/.test((l.alert as HmAlert).title),
        240_000,
      );
      assert.equal((timedOut.alert as HmAlert).instance_id, victim.id);
      const queued = await hm.waitFor(
        'scan_and_fix queued',
        (l) => l.msg === '(Resurrector) scan_and_fix queued',
        60_000,
      );
      const taskId = Number(queued.task_id);
      const fixed = await need().director.waitTask(taskId, 900_000);
      assert.equal(fixed.state, 'done', await need().director.output(taskId, 'event'));
      assert.equal(fixed.result, 'scan and fix complete');
      assert.ok(!hm.alerts().some((a) => a.title === 'Skipping stateful instances'));

      // Created from the IaaS stemcell 2 (its CID), not 1.
      const stemcells = JSON.parse((await need().director.request('GET', '/stemcells')).text) as Array<{
        version: string;
        cid: string;
      }>;
      const cidOf = (version: string) => stemcells.find((s) => s.version === version)?.cid ?? '?';
      const cpiLog = await need().director.output(taskId, 'cpi');
      assert.match(cpiLog, /create_vm/);
      assert.ok(cpiLog.includes(cidOf('2')), cpiLog);
      assert.ok(!cpiLog.includes(cidOf('1')), 'not the stemcell first deployed');

      const back = (await vms()).find((l) => l.id === victim.id);
      assert.ok(back);
      assert.notEqual(back.vm_cid, victim.vm_cid, 'a new VM');
      assert.equal(back.job_state, 'running');
      assert.equal(back.stemcell?.version, '2');
      assert.equal(back.booted_stemcell?.version, '2', 'the new agent reports 2 from the root it booted');
      assert.deepEqual(await need().cpi('get_disks', [back.vm_cid]), [disk], 'its disk re-attached');
      assert.equal(await checksum(disk), data, 'same persistent data');
      assert.deepEqual(await hm.stop(), { code: 0, signal: null });
    });
  },
);
