import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { HttpsDirectorClient } from './director-client.ts';
import { Fleet } from './fleet.ts';
import { Monitor } from './monitor.ts';
import { Resurrector } from './resurrector.ts';
import { DirectorStandIn } from './testing/director-stand-in.ts';
import { memoryLog, waitFor } from './test-support.ts';
import type { HmAlert } from '@refit/protocol';

const enc = (value: unknown) =>
  new TextEncoder().encode(typeof value === 'string' ? value : JSON.stringify(value));
const heartbeat = {
  deployment: 'cf',
  job: 'web',
  index: 0,
  job_state: 'running',
  node_id: 'i1',
  number_of_processes: 1,
  vitals: {},
};
const intervals = {
  pollDirectorMs: 50,
  analyzeMs: 50,
  gracePeriodMs: 0,
  agentTimeoutMs: 60_000,
  rogueAgentAlertMs: 120_000,
  maxBackoffMs: 100,
};
const resurrectorSettings = {
  minimumDownJobs: 5,
  percentThreshold: 0.2,
  timeThresholdMs: 600_000,
  autoFixStatefulNodes: false,
  localRules: [],
};

describe('Monitor against a real HTTPS director stand-in', () => {
  let director: DirectorStandIn;
  before(async () => {
    director = await DirectorStandIn.start();
  });
  after(() => director.stop());

  const setup = (now: () => number, withResurrector = false) => {
    const log = memoryLog();
    const alerts: HmAlert[] = [];
    const client = new HttpsDirectorClient({
      url: director.url,
      caPem: director.caPem,
      user: director.user,
      password: director.password,
      timeoutMs: 2000,
    });
    const fleet = new Fleet();
    let monitor: Monitor | null = null;
    const stop = new AbortController();
    const resurrector = withResurrector
      ? new Resurrector({
          director: client,
          fleet,
          log,
          emit: (d) => monitor?.raise(d),
          settings: resurrectorSettings,
          signal: stop.signal,
          now,
        })
      : null;
    monitor = new Monitor({
      director: client,
      log,
      sinks: [{ deliver: (a) => alerts.push(a) }, ...(resurrector ? [resurrector] : [])],
      resurrector,
      intervals,
      now,
      fleet,
    });
    return { monitor, log, alerts, stop, resurrector };
  };

  it('counts and logs heartbeats that are not JSON or come from unknown agents, and keeps going', async () => {
    director.deployments = [{ name: 'cf' }];
    director.instances.set('cf', [
      { id: 'i1', job: 'web', index: 0, agent_id: 'a1', cid: 'vm-1', expects_vm: true },
    ]);
    const { monitor, log } = setup(Date.now);
    await monitor.poll(AbortSignal.timeout(5000));
    monitor.handleMessage('heartbeat', 'a1', enc('{not json'));
    monitor.handleMessage('heartbeat', 'a1', enc(heartbeat));
    monitor.handleMessage('heartbeat', 'nobody', enc(heartbeat));
    monitor.handleMessage('alert', 'a1', enc({ nope: 1 }));
    monitor.handleMessage('shutdown', 'ghost', enc(''));
    assert.equal(monitor.counters.invalidMessages, 2);
    assert.equal(monitor.counters.unknownAgentMessages, 1);
    assert.equal(monitor.counters.heartbeats, 2);
    assert.ok(log.lines.some((l) => l.msg === 'Cannot parse incoming event'));
    assert.ok(log.lines.some((l) => l.msg === 'Received heartbeat from unmanaged agent: nobody'));
    assert.ok(monitor.fleet.unmanaged.has('nobody'));
  });

  it('holds back a flood of lines about unknown agents and sums them up at analysis', () => {
    const { monitor, log } = setup(Date.now);
    for (let i = 0; i < 50; i += 1) monitor.handleMessage('heartbeat', `flood-${i}`, enc(heartbeat));
    assert.equal(monitor.counters.unknownAgentMessages, 50);
    assert.equal(
      log.lines.filter((l) => l.msg.startsWith('Received heartbeat from unmanaged agent')).length,
      20,
    );
    monitor.analyze();
    const summary = log.lines.find((l) => l.msg === 'more bad or unknown-agent messages were not logged');
    assert.equal(summary?.fields?.count, 30);
  });

  it('relays an agent alert with the agent as source', async () => {
    const { monitor, alerts } = setup(Date.now);
    await monitor.poll(AbortSignal.timeout(5000));
    monitor.handleMessage(
      'alert',
      'a1',
      enc({ id: 'x', severity: 1, title: 'nginx - pid failed', summary: 's', created_at: 5 }),
    );
    assert.equal(alerts[0]?.title, 'nginx - pid failed');
    assert.equal(alerts[0]?.deployment, 'cf');
    assert.equal(alerts[0]?.instance_id, 'i1');
  });

  it('keeps running while the director is down and catches up when it is back', async () => {
    const { monitor, stop } = setup(Date.now);
    director.down = true;
    director.deployments = [{ name: 'cf' }, { name: 'late' }];
    director.instances.set('late', [{ id: 'l1', job: 'w', agent_id: 'la', expects_vm: true }]);
    const running = monitor.run(stop.signal);
    await waitFor('two failed polls', () => monitor.counters.directorFailures >= 2);
    assert.equal(monitor.fleet.deployments.size, 0);
    director.down = false;
    await waitFor('the late deployment', () => monitor.fleet.deployments.has('late'));
    assert.ok(monitor.counters.analyses > 0);
    stop.abort();
    await running;
  });

  it('asks scan_and_fix for timed-out instances, once while one is queued, and reports a meltdown', async () => {
    let now = 1_000_000;
    director.tasks = [];
    director.deployments = [{ name: 'cf' }];
    director.instances.set(
      'cf',
      ['1', '2', '3', '4', '5'].map((n) => ({
        id: `i${n}`,
        job: 'web',
        index: Number(n),
        agent_id: `a${n}`,
        cid: `vm-${n}`,
        expects_vm: true,
      })),
    );
    const { monitor, alerts, resurrector } = setup(() => now, true);
    await monitor.poll(AbortSignal.timeout(5000));
    for (const n of ['1', '2', '3', '4', '5']) monitor.handleMessage('heartbeat', `a${n}`, enc(heartbeat));
    now += 30_000;
    for (const n of ['2', '3', '4', '5']) monitor.handleMessage('heartbeat', `a${n}`, enc(heartbeat));
    now += 61_000; // a1 silent for 91 s
    for (const n of ['2', '3', '4', '5']) monitor.handleMessage('heartbeat', `a${n}`, enc(heartbeat));
    monitor.analyze();
    await resurrector?.idle();
    assert.deepEqual(director.scanAndFix.at(-1), { deployment: 'cf', body: { jobs: { web: ['i1'] } } });
    assert.ok(alerts.some((a) => a.title === 'Scan unresponsive VMs'));
    const sent = director.scanAndFix.length;
    monitor.analyze(); // the first scan and fix is still queued
    await resurrector?.idle();
    assert.equal(director.scanAndFix.length, sent);
  });

  it('alerts a meltdown and asks nothing when too many instances are down', async () => {
    let now = 5_000_000;
    director.tasks = [];
    const before = director.scanAndFix.length;
    const { monitor, alerts, resurrector } = setup(() => now, true);
    await monitor.poll(AbortSignal.timeout(5000));
    now += 91_000; // nobody heartbeats: 5 of 5 time out
    monitor.analyze();
    await resurrector?.idle();
    const meltdown = alerts.find((a) => a.title === 'We are in meltdown');
    assert.ok(meltdown);
    assert.equal(meltdown.severity, 1);
    assert.match(meltdown.summary, /5 of 5 agents are unhealthy \(100\.0%\)/);
    assert.equal(director.scanAndFix.length, before);
  });

  it('asks nothing while resurrection is paused on the director', async () => {
    let now = 7_000_000;
    director.tasks = [];
    director.resurrectionPaused = true;
    const before = director.scanAndFix.length;
    const { monitor, log, resurrector } = setup(() => now, true);
    await monitor.poll(AbortSignal.timeout(5000));
    for (const n of ['2', '3', '4', '5']) monitor.handleMessage('heartbeat', `a${n}`, enc(heartbeat));
    now += 61_000;
    for (const n of ['2', '3', '4', '5']) monitor.handleMessage('heartbeat', `a${n}`, enc(heartbeat));
    monitor.analyze();
    await resurrector?.idle();
    director.resurrectionPaused = false;
    assert.equal(director.scanAndFix.length, before);
    assert.ok(
      log.lines.some(
        (l) => l.msg === '(Resurrector) resurrection is paused on the director: not asking scan_and_fix',
      ),
    );
  });

  it('skips an instance the director lists with a persistent disk (disk_cid), as scan_and_fix would', async () => {
    let now = 8_000_000;
    director.tasks = [];
    const before = director.scanAndFix.length;
    const stateful = (disk: { disk_cid?: string | null; disk_cids?: string[] }) =>
      ['1', '2', '3', '4', '5'].map((n) => ({
        id: `i${n}`,
        job: 'web',
        index: Number(n),
        agent_id: `a${n}`,
        cid: `vm-${n}`,
        expects_vm: true,
        ...(n === '1' ? disk : { disk_cid: null, disk_cids: [] }),
      }));
    for (const disk of [{ disk_cid: 'disk-1', disk_cids: ['disk-1'] }, { disk_cids: ['disk-1'] }]) {
      director.instances.set('cf', stateful(disk));
      const { monitor, alerts, resurrector } = setup(() => now, true);
      await monitor.poll(AbortSignal.timeout(5000));
      for (const n of ['2', '3', '4', '5']) monitor.handleMessage('heartbeat', `a${n}`, enc(heartbeat));
      now += 61_000; // a1 silent since the poll
      for (const n of ['2', '3', '4', '5']) monitor.handleMessage('heartbeat', `a${n}`, enc(heartbeat));
      monitor.analyze();
      await resurrector?.idle();
      const skipped = alerts.find((a) => a.title === 'Skipping stateful instances');
      assert.match(skipped?.summary ?? '', /instances with persistent disks: web\/i1;/);
      assert.equal(director.scanAndFix.length, before);
      now += 1_000_000;
    }
    // Without a disk the same timeout is resurrected.
    director.instances.set('cf', stateful({ disk_cid: null, disk_cids: [] }));
    const { monitor, resurrector } = setup(() => now, true);
    await monitor.poll(AbortSignal.timeout(5000));
    for (const n of ['2', '3', '4', '5']) monitor.handleMessage('heartbeat', `a${n}`, enc(heartbeat));
    now += 61_000;
    for (const n of ['2', '3', '4', '5']) monitor.handleMessage('heartbeat', `a${n}`, enc(heartbeat));
    monitor.analyze();
    await resurrector?.idle();
    assert.deepEqual(director.scanAndFix.at(-1), { deployment: 'cf', body: { jobs: { web: ['i1'] } } });
  });

  it('logs a refusal of scan_and_fix and keeps running', async () => {
    let now = 9_000_000;
    director.tasks = [];
    director.refuseScanAndFix = {
      status: 400,
      body: '{"code":70001,"description":"Resurrection is paused"}',
    };
    const { monitor, log, resurrector } = setup(() => now, true);
    await monitor.poll(AbortSignal.timeout(5000));
    for (const n of ['2', '3', '4', '5']) monitor.handleMessage('heartbeat', `a${n}`, enc(heartbeat));
    now += 61_000;
    for (const n of ['2', '3', '4', '5']) monitor.handleMessage('heartbeat', `a${n}`, enc(heartbeat));
    monitor.analyze();
    await resurrector?.idle();
    director.refuseScanAndFix = null;
    const refusal = log.lines.find((l) => l.msg === '(Resurrector) the director refused scan_and_fix');
    assert.equal(refusal?.fields?.status, 400);
  });
});
