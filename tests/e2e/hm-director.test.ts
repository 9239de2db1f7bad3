// refit-hm against the real refit-director with its embedded nats-server: the monitor reads its
// defaults from the director's state dir, polls the real API, hears agents over the real bus,
// and rides out a director restart (the director and its nats-server both go away and return).
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { HmAlert } from '@refit/protocol';
import {
  eventually,
  startDirector,
  type DirectorProcess,
} from '../../packages/director/src/api/director-process.test-support.ts';
import { HeartbeatLoad } from '../../packages/hm/src/testing/heartbeat-load.ts';
import { HmProcess, type HmLine } from '../../packages/hm/src/testing/hm-process.ts';

const counters = (line: HmLine) =>
  line.counters as { heartbeats: number; directorPolls: number; directorFailures: number };
const lastAnalysis = (hm: HmProcess) => hm.lines.filter((l) => l.msg === 'Analyzed').at(-1);

describe('refit-hm with the real director', () => {
  let stateDir = '';
  let director: DirectorProcess;
  let hm: HmProcess | null = null;
  let load: HeartbeatLoad | null = null;

  before(async () => {
    stateDir = await mkdtemp(join(tmpdir(), 'refit-hm-director-'));
    director = await startDirector({ stateDir });
  });

  after(async () => {
    await load?.stop();
    await hm?.stop();
    await director?.stop();
    await rm(stateDir, { recursive: true, force: true });
  });

  it('follows agents over the embedded NATS, polls the director, and catches up after a restart', async () => {
    const config = join(stateDir, 'hm.yml');
    await writeFile(
      config,
      'intervals: {poll_director: 0.3, analyze_agents: 0.3, poll_grace_period: 0.2, agent_timeout: 2, rogue_agent_alert: 1, max_backoff: 0.5}\n',
    );
    hm = HmProcess.spawn([
      '--config',
      config,
      '--director-state-dir',
      stateDir,
      '--director-url',
      `https://127.0.0.1:${director.port}`,
    ]);
    await hm.waitFor('ready', (l) => l.msg === 'hm ready');

    const nats = JSON.parse(await readFile(join(stateDir, 'nats', 'credentials.json'), 'utf8')) as {
      port: number;
      agents: { user: string; password: string };
    };
    const agent = { agentId: 'lonely-agent', deployment: 'none', job: 'web', index: 0, instanceId: 'i-0' };
    load = await HeartbeatLoad.start(
      { url: `nats://127.0.0.1:${nats.port}`, user: nats.agents.user, password: nats.agents.password },
      [agent],
      200,
    );
    load.burst();
    await hm.waitFor(
      'the agent heard',
      (l) => l.msg === 'Received heartbeat from unmanaged agent: lonely-agent',
    );
    await hm.waitFor(
      'a poll of the real director',
      (l) => l.msg === 'Analyzed' && counters(l).directorPolls > 0,
    );
    await hm.waitFor(
      'the rogue alert',
      (l) =>
        l.msg === 'alert' && (l.alert as HmAlert).title === 'lonely-agent is not a part of any deployment',
    );
    const rogue = hm.alerts().find((a) => a.title === 'lonely-agent is not a part of any deployment')!;
    // The alert is recorded as a director event (BOSH's event_logger plugin, `POST /events`).
    const events = await eventually(
      'the rogue alert among the director events',
      async () =>
        (await director.request({ path: '/events?object_type=alert' })).json<
          Array<{ action: string; object_name: string; user: string; context: { message: string } }>
        >(),
      (list) => list.some((e) => e.object_name === rogue.id),
    );
    const event = events.find((e) => e.object_name === rogue.id)!;
    assert.equal(event.action, 'create');
    assert.equal(event.user, director.auth.client);
    assert.match(event.context.message, /^lonely-agent is not a part of any deployment\. Alert @ /);
    assert.ok(!hm.lines.some((l) => l.msg.startsWith('the director has no POST /events')));

    assert.deepEqual(await director.stop(), { code: 0, signal: null });
    await hm.waitFor('the director is down', (l) => l.msg === 'cannot reach the director: retrying');
    const failuresBefore = counters(lastAnalysis(hm)!).directorFailures;
    await hm.waitFor(
      'more failed polls',
      (l) => l.msg === 'Analyzed' && counters(l).directorFailures >= failuresBefore + 2,
    );
    assert.equal(hm.child.exitCode, null, 'the monitor keeps running');

    director = await startDirector({ stateDir, port: director.port });
    const down = lastAnalysis(hm)!;
    await hm.waitFor(
      'polls and heartbeats again',
      (l) =>
        l.msg === 'Analyzed' &&
        counters(l).directorPolls > counters(down).directorPolls &&
        counters(l).heartbeats > counters(down).heartbeats + 3,
      30_000,
    );
    assert.deepEqual(await hm.stop(), { code: 0, signal: null });
  });
});
