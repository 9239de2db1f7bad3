// refit-hm end to end with a real nats-server and agents impersonated by publishing heartbeats;
// the director's deployments API is a real local HTTPS stand-in (deployments with instances need
// a full deploy on the real director: hm-director.test.ts and hm-resurrect-vms.test.ts run against
// the real one).
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { HmAlert } from '@refit/protocol';
import { DirectorStandIn } from '../../packages/hm/src/testing/director-stand-in.ts';
import { HeartbeatLoad, type ImpersonatedAgent } from '../../packages/hm/src/testing/heartbeat-load.ts';
import { HmProcess } from '../../packages/hm/src/testing/hm-process.ts';
import { waitFor } from '../../packages/hm/src/test-support.ts';
import { NatsServer } from './support/nats-server.ts';

const agents: ImpersonatedAgent[] = [1, 2, 3, 4, 5].map((n) => ({
  agentId: `agent-${n}`,
  deployment: 'cf',
  job: n <= 3 ? 'web' : 'db',
  index: n,
  instanceId: `inst-${n}`,
}));

describe('refit-hm with a real nats-server', () => {
  let nats: NatsServer;
  let director: DirectorStandIn;
  let dir = '';
  const servers: Server[] = [];
  const running: HmProcess[] = [];
  const loads: HeartbeatLoad[] = [];

  const webhook = async (hang: boolean) => {
    const received: HmAlert[] = [];
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push(HmAlert.parse(JSON.parse(Buffer.concat(chunks).toString('utf8'))));
        if (!hang) res.end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    servers.push(server);
    return { received, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/alerts` };
  };

  const startHm = async (name: string, webhookUrl: string, resurrector: Record<string, unknown>) => {
    const config = join(dir, `${name}.yml`);
    await writeFile(
      config,
      JSON.stringify({
        director: {
          url: director.url,
          user: director.user,
          password: director.password,
          ca_cert: join(dir, 'ca.pem'),
        },
        nats: { url: `nats://127.0.0.1:${nats.port}`, user: nats.user, password: nats.password },
        intervals: {
          poll_director: 0.2,
          analyze_agents: 0.3,
          poll_grace_period: 0.3,
          // Agents beat every 0.2 s. A stall of the HM or of the test's beats longer than this
          // is a spurious timeout, and the test counts timeouts exactly (3 of 5, one scan):
          // 1 s was too short for a loaded 2-core machine.
          agent_timeout: 4,
          rogue_agent_alert: 1.5,
        },
        resurrector,
        webhook: { url: webhookUrl, timeout: 0.3, queue_size: 5 },
      }),
    );
    const hm = HmProcess.spawn(['--config', config]);
    running.push(hm);
    await hm.waitFor('ready', (l) => l.msg === 'hm ready');
    return hm;
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'refit-hm-e2e-'));
    nats = await NatsServer.start(AbortSignal.timeout(10_000));
    director = await DirectorStandIn.start();
    await writeFile(join(dir, 'ca.pem'), director.caPem);
    director.deployments = [{ name: 'cf', locked: false }];
    director.instances.set(
      'cf',
      agents.map((a) => ({
        id: a.instanceId,
        job: a.job,
        index: a.index,
        agent_id: a.agentId,
        cid: `vm-${a.index}`,
        expects_vm: true,
      })),
    );
  });

  after(async () => {
    for (const load of loads) await load.stop();
    for (const hm of running) await hm.stop();
    for (const server of servers) server.closeAllConnections();
    for (const server of servers) server.close();
    await director?.stop();
    await nats?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('alerts a silent agent, asks scan_and_fix once, survives bad heartbeats and strangers, then reports a meltdown', async () => {
    const hook = await webhook(false);
    const hm = await startHm('main', hook.url, {
      enabled: true,
      minimum_down_jobs: 3,
      percent_threshold: 0.5,
    });
    const load = await HeartbeatLoad.start(
      { url: `nats://127.0.0.1:${nats.port}`, user: nats.user, password: nats.password },
      agents,
      200,
    );
    loads.push(load);
    const beatingSince = Date.now();
    load.burst();
    load.publishRaw('hm.agent.heartbeat.agent-2', '{this is not json');
    load.publishRaw(
      'hm.agent.heartbeat.stranger',
      JSON.stringify(HeartbeatLoad.heartbeat({ ...agents[0]!, agentId: 'stranger' })),
    );
    const strangerBeats = setInterval(
      () =>
        load.publishRaw(
          'hm.agent.heartbeat.stranger',
          JSON.stringify(HeartbeatLoad.heartbeat({ ...agents[0]!, agentId: 'stranger' })),
        ),
      200,
    );
    try {
      await hm.waitFor('the bad heartbeat logged', (l) => l.msg === 'Cannot parse incoming event');
      await hm.waitFor(
        'the stranger logged',
        (l) => l.msg === 'Received heartbeat from unmanaged agent: stranger',
      );
      await hm.waitFor(
        'the rogue alert',
        (l) => l.msg === 'alert' && (l.alert as HmAlert).title === 'stranger is not a part of any deployment',
      );
    } finally {
      clearInterval(strangerBeats);
    }
    // Only meaningful once every agent has been beating for longer than the agent timeout.
    await hm.waitFor(
      'an analysis past the agent timeout',
      (l) => l.msg === 'Analyzed' && Number(l['receivedAt']) - beatingSince > 5000,
    );
    assert.ok(
      !hm.alerts().some((a) => /has timed out/.test(a.title)),
      'no agent timed out while all heartbeat',
    );

    load.silence('agent-1');
    await hm.waitFor(
      'agent-1 timed out',
      (l) => l.msg === 'alert' && (l.alert as HmAlert).title === 'agent-1 has timed out',
    );
    const health = await hm.waitFor(
      'deployment health',
      (l) => l.msg === 'alert' && (l.alert as HmAlert).category === 'deployment_health',
    );
    assert.deepEqual((health.alert as HmAlert).jobs_to_instance_ids, { web: ['inst-1'] });
    await waitFor('scan_and_fix', () => director.scanAndFix.length > 0);
    assert.deepEqual(director.scanAndFix[0], { deployment: 'cf', body: { jobs: { web: ['inst-1'] } } });
    await hm.waitFor(
      'scan alert',
      (l) => l.msg === 'alert' && (l.alert as HmAlert).title === 'Scan unresponsive VMs',
    );
    await waitFor('the webhook got the timed-out alert', () =>
      hook.received.some((a) => a.title === 'agent-1 has timed out'),
    );
    // The stand-in now lists that scan and fix as queued: further analyses must not ask again.
    const analyses = hm.lines.filter((l) => l.msg === 'Analyzed').length;
    await hm.waitFor(
      'two more analyses',
      () => hm.lines.filter((l) => l.msg === 'Analyzed').length >= analyses + 2,
    );
    assert.equal(director.scanAndFix.length, 1);

    load.silence('agent-2');
    load.silence('agent-4');
    await hm.waitFor(
      'meltdown',
      (l) => l.msg === 'alert' && (l.alert as HmAlert).title === 'We are in meltdown',
    );
    const meltdown = hm.alerts().find((a) => a.title === 'We are in meltdown');
    assert.match(String(meltdown?.summary), /3 of 5 agents are unhealthy \(60\.0%\)/);
    assert.equal(director.scanAndFix.length, 1);
    assert.ok(
      hm.lines.some(
        (l) => l.msg === 'the director has no POST /events: alerts are not recorded as director events',
      ),
    );

    assert.deepEqual(await hm.stop(), { code: 0, signal: null });
    await load.stop();
  });

  it('keeps analysing while its webhook hangs', async () => {
    const hook = await webhook(true);
    director.tasks = [];
    const hm = await startHm('hanging', hook.url, { enabled: false });
    const load = await HeartbeatLoad.start(
      { url: `nats://127.0.0.1:${nats.port}`, user: nats.user, password: nats.password },
      agents,
      200,
    );
    loads.push(load);
    load.burst();
    load.silence('agent-5');
    await hm.waitFor(
      'agent-5 timed out',
      (l) => l.msg === 'alert' && (l.alert as HmAlert).title === 'agent-5 has timed out',
    );
    await hm.waitFor('a webhook timeout', (l) => l.msg === 'webhook delivery failed');
    const analyses = hm.lines.filter((l) => l.msg === 'Analyzed').length;
    await hm.waitFor(
      'analyses go on',
      () => hm.lines.filter((l) => l.msg === 'Analyzed').length >= analyses + 3,
    );
    assert.ok(hook.received.length >= 1, 'the webhook was called');
    assert.deepEqual(await hm.stop(), { code: 0, signal: null });
  });
});
