import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { agentNatsUserName } from './agent-nats-users.ts';
import { agentPermissions, renderNatsServerConfig } from './nats-server-config.ts';

const base = {
  port: 4222,
  pidFile: '/tmp/x/nats-server.pid',
  director: { user: 'director', password: 'd' },
  hm: { user: 'hm', password: 'h' },
  agents: { user: 'agent', password: 'a' },
};

describe('renderNatsServerConfig', () => {
  it("scopes each agent's user to its own agent id", () => {
    const text = renderNatsServerConfig({
      ...base,
      agentUsers: [
        { agentId: 'aaa-1', user: 'agent-aaa-1', password: 'pa' },
        { agentId: 'bbb-2', user: 'agent-bbb-2', password: 'pb' },
      ],
    });
    const line = (user: string) => text.split('\n').find((l) => l.includes(`user: "${user}"`)) ?? '';
    assert.equal(
      line('agent-aaa-1'),
      '    { user: "agent-aaa-1", password: "pa", permissions: { publish: { allow: ["hm.agent.heartbeat.aaa-1", ' +
        '"hm.agent.alert.aaa-1", "hm.agent.shutdown.aaa-1", "director.*.aaa-1.*"] }, subscribe: { allow: ["agent.aaa-1"] } } }',
    );
    assert.ok(line('agent-bbb-2').includes('"agent.bbb-2"'));
    assert.ok(!line('agent-bbb-2').includes('aaa-1'));
    // The shared user is still there for VMs created before per-agent users.
    assert.ok(line('agent').includes('"agent.*"'));
  });

  it('renders no agent users when there are none', () => {
    assert.equal(renderNatsServerConfig(base), renderNatsServerConfig({ ...base, agentUsers: [] }));
    assert.ok(!renderNatsServerConfig(base).includes('agent-'));
  });

  it('grants nothing of another agent and no wildcard of its own', () => {
    const { publish, subscribe } = agentPermissions('abc');
    for (const subject of [...publish, ...subscribe]) assert.ok(subject.includes('abc'), subject);
    assert.ok(!publish.some((s) => s.includes('>')));
  });

  it('refuses agent ids that would widen a subject', () => {
    for (const bad of ['a.b', 'a*', '>', 'a b', ''])
      assert.throws(() => agentNatsUserName(bad), /NATS subject/);
    assert.equal(agentNatsUserName('5f1e-AB_9'), 'agent-5f1e-AB_9');
  });
});
