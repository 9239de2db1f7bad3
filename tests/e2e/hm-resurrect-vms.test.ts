// The resurrector end to end: refit-director on its defaults (embedded nats-server,
// refit-cpi-local VMs with the real agent, heartbeating every 5 s in this suite's stemcell), refit-hm started from the
// director's state dir with the resurrector on. A VM lost at the IaaS (its supervisor SIGKILLed,
// then gone from the CPI) times out, the monitor alerts and asks scan_and_fix, and the director
// brings the instance back on a new VM. Then, once that scan_and_fix task has ended and released
// the deployment lock (the monitor skips a locked deployment, as BOSH's does), three of the five
// VMs are lost at once: meltdown, an alert that says so, and no scan_and_fix.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import type { HmAlert } from '@refit/protocol';
import { startDirector, type DirectorProcess } from '@refit/director/api/director-process.test-support.ts';
import { buildRelease } from '@refit/testkit/release/build-release.ts';
import { HmProcess } from '../../packages/hm/src/testing/hm-process.ts';
import { refitCli, rowsOf } from './support/refit-cli.ts';
import {
  buildStemcell,
  cpiOf,
  deleteHostVms,
  loopJob,
  oneAzCloudConfig,
  skipUnlessRoot,
  vmProcesses,
} from './support/vm-lab.ts';
import { callCpi } from './vm-harness/cpi-process.ts';

const cloudConfig = oneAzCloudConfig(73);

const manifest = stringify({
  name: 'hmdep',
  releases: [{ name: 'app', version: '1' }],
  stemcells: [{ alias: 'default', os: 'refit-minimal', version: '1' }],
  update: { canaries: 1, max_in_flight: 5, canary_watch_time: '1000-30000', update_watch_time: '1000-30000' },
  instance_groups: [
    {
      name: 'web',
      azs: ['z1'],
      instances: 5,
      jobs: [{ name: 'web', release: 'app', properties: {} }],
      vm_type: 'default',
      stemcell: 'default',
      networks: [{ name: 'default' }],
    },
  ],
});

describe('refit-hm resurrects a lost VM', { timeout: 1_800_000, skip: skipUnlessRoot }, () => {
  let work = '';
  let director: DirectorProcess | undefined;
  let hm: HmProcess | undefined;
  let resurrected = '';
  const stateDir = () => join(work, 'director');
  const cli = refitCli(
    () => director!,
    () => work,
  );
  const refit = async (argv: readonly string[]) => (await cli.ok(argv)).stdout;
  const vmCids = async () =>
    new Map(rowsOf(await refit(['-d', 'hmdep', 'vms'])).map((r) => [r[0] ?? '', r[4] ?? '']));

  /** A VM lost at the IaaS: its supervisor SIGKILLed, then gone from the CPI. */
  const loseVm = async (cid: string) => {
    process.kill((await vmProcesses(stateDir(), cid)).supervisor.pid, 'SIGKILL');
    await callCpi(cpiOf(stateDir()), 'delete_vm', [cid]);
  };
  const pollDirector = async <T>(
    what: string,
    timeoutMs: number,
    probe: () => Promise<T | undefined>,
  ): Promise<T> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await probe();
      if (value !== undefined) return value;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${hm?.tail() ?? ''}`);
      await new Promise((r) => setTimeout(r, 1000));
    }
  };
  /** Waits for a director task to end (any final state). */
  const taskEnded = (id: number, timeoutMs: number) =>
    pollDirector(`task ${id} to end`, timeoutMs, async () => {
      const task = (await director!.request({ path: `/tasks/${id}` })).json<{
        state: string;
        result: string;
      }>();
      return ['queued', 'processing', 'cancelling'].includes(task.state) ? undefined : task;
    });
  /** Waits until no task holds the deployment's lock. */
  const lockFree = (timeoutMs: number) =>
    pollDirector('the deployment lock to be free', timeoutMs, async () => {
      const locks = (await director!.request({ path: '/locks' })).json<Array<{ resource: string[] }>>();
      return locks.some((l) => l.resource.includes('hmdep')) ? undefined : true;
    });

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'refit-hm-vms-'));
    // Heartbeats every 5 s (BOSH's agents: 30 s) so a lost agent times out in seconds.
    await buildStemcell(work, '1', { name: 'refit-hm-e2e', extra: ['--heartbeat-interval', '5'] });
    director = await startDirector({ stateDir: join(work, 'director'), readyTimeoutMs: 60_000 });
    const release = join(work, 'app-1.tgz');
    const built = await buildRelease({
      name: 'app',
      version: '1',
      jobs: [loopJob({ marker: 'refit-hm-e2e-web' })],
    });
    await writeFile(release, built.tarball);
    await writeFile(join(work, 'cc.yml'), stringify(cloudConfig));
    await writeFile(join(work, 'dep.yml'), manifest);
    await refit(['upload-stemcell', join(work, 'sc-1/stemcell.tgz')]);
    await refit(['upload-release', release]);
    await refit(['-n', 'update-cloud-config', join(work, 'cc.yml')]);
    await refit(['-n', '-d', 'hmdep', 'deploy', join(work, 'dep.yml')]);
  });

  after(async () => {
    await hm?.stop();
    if (director) {
      await cli.run(['-n', '-d', 'hmdep', 'delete-deployment', '--force']).catch(() => undefined);
      await director.stop();
      await deleteHostVms(stateDir());
    }
    await rm(work, { recursive: true, force: true });
  });

  it('alerts the silent agent, asks scan_and_fix, and the instance comes back on a new VM', async () => {
    const config = join(work, 'hm.yml');
    // Agents heartbeat every 5 s: the timeout is three beats. An unhealthy mark
    // counts for an hour, so the meltdown case below never depends on how long this one took.
    await writeFile(
      config,
      'intervals: {poll_director: 1, analyze_agents: 2, poll_grace_period: 1, agent_timeout: 15}\n' +
        'resurrector: {minimum_down_jobs: 2, percent_threshold: 0.4, time_threshold: 3600}\n',
    );
    hm = HmProcess.spawn([
      '--config',
      config,
      '--director-state-dir',
      join(work, 'director'),
      '--director-url',
      `https://127.0.0.1:${director!.port}`,
      '--resurrector',
      'on',
    ]);
    await hm.waitFor('ready', (l) => l.msg === 'hm ready', 60_000);

    const cids = await vmCids();
    assert.equal(cids.size, 5);
    const [instance, vmCid] = [...cids.entries()].sort()[1]!;
    await loseVm(vmCid);

    const timedOut = await hm.waitFor(
      'the timeout alert',
      (l) => l.msg === 'alert' && /has timed out$/.test((l.alert as HmAlert).title),
      240_000,
    );
    assert.equal(`web/${(timedOut.alert as HmAlert).instance_id}`, instance);
    const queued = await hm.waitFor(
      'scan_and_fix queued',
      (l) => l.msg === '(Resurrector) scan_and_fix queued',
      60_000,
    );
    // The whole task, not just the new VM: scan_and_fix holds the deployment lock until its
    // post-deploy ends, and the monitor skips a locked deployment.
    const task = await taskEnded(Number(queued.task_id), 900_000);
    assert.equal(task.state, 'done', JSON.stringify(task));
    assert.equal(task.result, 'scan and fix complete');
    const now = await vmCids();
    assert.ok(now.get(instance) && now.get(instance) !== vmCid, 'a new VM');
    assert.match(
      (await refit(['-d', 'hmdep', 'vms'])).split('\n').find((l) => l.startsWith(instance)) ?? '',
      /\trunning\t/,
    );
    assert.ok(!hm.alerts().some((a) => a.title === 'We are in meltdown'));
    resurrected = instance;
  });

  it('three of five VMs lost: meltdown, an alert that says so, no resurrection', async () => {
    assert.ok(hm && resurrected !== '', 'runs after the first test');
    // Nothing may hold the deployment lock when the VMs go: the monitor would skip the locked
    // deployment (as BOSH's does) and see nothing for as long as the task runs.
    await lockFree(600_000);
    // The resurrected instance's unhealthy mark still counts (time_threshold 3600 s), so the
    // first analysis that sees any of the three timed out is already a meltdown (2 of 5 = 40%).
    const lost = [...(await vmCids()).entries()].filter(([name]) => name !== resurrected).slice(0, 3);
    const queuedBefore = hm.lines.filter((l) => l.msg === '(Resurrector) scan_and_fix queued').length;
    for (const [, cid] of lost) await loseVm(cid);
    const meltdown = await hm.waitFor(
      'the meltdown alert',
      (l) => l.msg === 'alert' && (l.alert as HmAlert).title === 'We are in meltdown',
      240_000,
    );
    assert.match((meltdown.alert as HmAlert).summary, /of 5 agents are unhealthy/);
    // Every lost agent has timed out and been analysed at least once more: still no request.
    for (const [name] of lost) {
      const id = name.split('/')[1];
      await hm.waitFor(
        `${name} timed out`,
        (l) =>
          l.msg === 'alert' &&
          (l.alert as HmAlert).title.endsWith('has timed out') &&
          (l.alert as HmAlert).instance_id === id,
        240_000,
      );
    }
    const analyses = hm.lines.filter((l) => l.msg === 'Analyzed').length;
    await hm.waitFor(
      'two more analyses',
      () => hm!.lines.filter((l) => l.msg === 'Analyzed').length >= analyses + 2,
      60_000,
    );
    assert.equal(hm.lines.filter((l) => l.msg === '(Resurrector) scan_and_fix queued').length, queuedBefore);
    assert.deepEqual(await hm.stop(), { code: 0, signal: null });
  });
});
