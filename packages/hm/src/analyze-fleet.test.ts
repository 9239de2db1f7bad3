import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { analyzeFleet } from './analyze-fleet.ts';
import { Fleet } from './fleet.ts';

const S = 1000;
const thresholds = { agentTimeoutMs: 60 * S, rogueAgentAlertMs: 120 * S };
const instance = (id: string, job: string, agentId: string | null, extra = {}) => ({
  id,
  job,
  index: 0,
  agent_id: agentId,
  cid: agentId === null ? null : `vm-${id}`,
  expects_vm: true,
  ...extra,
});
const titles = (fleet: Fleet, now: number) => analyzeFleet(fleet, now, thresholds).alerts.map((a) => a.title);

/** Replays `[time s, agent id]` heartbeats into the fleet. */
function replay(fleet: Fleet, beats: ReadonlyArray<readonly [number, string]>): void {
  for (const [t, agentId] of beats) {
    const who = fleet.attribute('heartbeat', agentId, t * S);
    if (who.kind !== 'ignored') fleet.heartbeat(who.agent, 'running', t * S);
  }
}

describe('analyzeFleet', () => {
  it('alerts an agent that stopped heartbeating, once past agent_timeout, with one deployment_health alert', () => {
    const fleet = new Fleet();
    fleet.syncDeployments([{ name: 'cf' }]);
    fleet.syncInstances(
      'cf',
      [instance('i1', 'web', 'a1'), instance('i2', 'web', 'a2'), instance('i3', 'db', 'a3')],
      0,
    );
    // a1 beats every 30 s throughout; a2 stops after t=30; a3 stops after t=60.
    replay(fleet, [
      [0, 'a1'],
      [0, 'a2'],
      [0, 'a3'],
      [30, 'a1'],
      [30, 'a2'],
      [30, 'a3'],
      [60, 'a1'],
      [60, 'a3'],
      [90, 'a1'],
      [120, 'a1'],
      [150, 'a1'],
    ]);
    assert.deepEqual(titles(fleet, 90 * S), []);
    assert.deepEqual(titles(fleet, 91 * S), ['a2 has timed out', 'cf has instances with timed out agents']);
    const at121 = analyzeFleet(fleet, 121 * S, thresholds);
    assert.deepEqual(
      at121.alerts.map((a) => a.title),
      ['a2 has timed out', 'a3 has timed out', 'cf has instances with timed out agents'],
    );
    const health = at121.alerts.find((a) => a.category === 'deployment_health');
    assert.deepEqual(health?.jobsToInstanceIds, { web: ['i2'], db: ['i3'] });
    assert.equal(health?.severity, 2);
    const timedOut = at121.alerts[0];
    assert.equal(timedOut?.category, 'vm_health');
    assert.equal(timedOut?.instanceId, 'i2');
    assert.equal(timedOut?.createdAt, 121);
  });

  it('alerts instances that expect a VM and have none, aggregated per deployment', () => {
    const fleet = new Fleet();
    fleet.syncDeployments([{ name: 'cf' }]);
    fleet.syncInstances(
      'cf',
      [instance('i1', 'web', null), instance('i2', 'web', null, { expects_vm: false })],
      0,
    );
    const analysis = analyzeFleet(fleet, 1 * S, thresholds);
    assert.deepEqual(
      analysis.alerts.map((a) => a.title),
      ['i1 has no VM', 'cf has instances which do not have VMs'],
    );
    assert.deepEqual(analysis.alerts[1]?.jobsToInstanceIds, { web: ['i1'] });
  });

  it('skips locked deployments', () => {
    const fleet = new Fleet();
    fleet.syncDeployments([{ name: 'cf', locked: true }]);
    fleet.syncInstances('cf', [instance('i1', 'web', 'a1'), instance('i2', 'web', null)], 0);
    const analysis = analyzeFleet(fleet, 1000 * S, thresholds);
    assert.deepEqual(analysis.alerts, []);
    assert.deepEqual(analysis.lockedDeploymentsSkipped, ['cf']);
  });

  it('calls an agent in no deployment rogue after rogue_agent_alert, and forgets it once it times out', () => {
    const fleet = new Fleet();
    fleet.syncDeployments([{ name: 'cf' }]);
    replay(fleet, [
      [0, 'stray'],
      [30, 'stray'],
      [60, 'stray'],
      [90, 'stray'],
      [120, 'stray'],
    ]);
    assert.deepEqual(titles(fleet, 120 * S), []);
    assert.deepEqual(titles(fleet, 121 * S), ['stray is not a part of any deployment']);
    const later = analyzeFleet(fleet, 200 * S, thresholds);
    assert.deepEqual(later.alerts, []);
    assert.deepEqual(later.removedAgentIds, ['stray']);
  });

  it('keeps the last heartbeat of an agent heard before the director listed it', () => {
    const fleet = new Fleet();
    fleet.syncDeployments([{ name: 'cf' }]);
    replay(fleet, [[0, 'a1']]);
    fleet.syncInstances('cf', [instance('i1', 'web', 'a1')], 50 * S);
    assert.equal(fleet.unmanaged.size, 0);
    assert.deepEqual(titles(fleet, 61 * S), ['a1 has timed out', 'cf has instances with timed out agents']);
  });

  it('drops deployments the director no longer lists', () => {
    const fleet = new Fleet();
    fleet.syncDeployments([{ name: 'a' }, { name: 'b' }]);
    fleet.syncDeployments([{ name: 'b' }]);
    assert.deepEqual([...fleet.deployments.keys()], ['b']);
  });
});
