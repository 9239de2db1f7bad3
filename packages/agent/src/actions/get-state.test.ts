import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { AgentStateValue } from '@refit/protocol';
import { agentFixture, type AgentFixture } from '../testing/fixture.ts';
import { apply } from './apply.ts';

describe('get_state', () => {
  let f: AgentFixture;
  beforeEach(async () => {
    f = await agentFixture();
  });
  afterEach(() => f.close());

  it('answers the stored spec, agent id, job state, VM and the booted stemcell', async () => {
    await mkdir(join(f.base, 'var/vcap/bosh/etc'), { recursive: true });
    await mkdir(join(f.base, 'etc'), { recursive: true });
    await writeFile(join(f.base, 'var/vcap/bosh/etc/stemcell_version'), '1.42\n');
    await writeFile(
      join(f.base, 'etc/os-release'),
      'ID=debian\nVERSION_ID="12"\nREFIT_STEMCELL_NAME=refit-local-debian\n',
    );
    await f.run(apply, [{ deployment: 'dep', job: { name: 'web' }, index: 2, id: 'i-9', networks: {} }]);
    const outcome = await f.dispatcher.dispatch('get_state', []);
    assert.ok('value' in outcome);
    const state = AgentStateValue.parse(outcome.value);
    assert.equal(state.agent_id, 'agent-1');
    assert.equal(state.deployment, 'dep');
    assert.equal(state.index, 2);
    assert.equal(state.job_state, 'running');
    assert.deepEqual(state.processes, []);
    assert.deepEqual(state.vm, { name: 'vm-1' });
    assert.deepEqual(state.stemcell, { version: '1.42', name: 'refit-local-debian', os: 'debian-12' });
    assert.equal(state.vitals, undefined);
  });

  it('adds vitals with "full", as BOSH strings', async () => {
    const outcome = await f.dispatcher.dispatch('get_state', ['full']);
    assert.ok('value' in outcome);
    const vitals = AgentStateValue.parse(outcome.value).vitals;
    assert.ok(vitals);
    assert.match(vitals.cpu.user, /^\d+\.\d$/);
    assert.match(vitals.mem.percent, /^\d+$/);
    assert.ok(Number(vitals.mem.kb) > 0);
    assert.match(vitals.load[0], /^\d+\.\d\d$/);
    assert.match(vitals.disk.system?.percent ?? '', /^\d+$/);
    assert.match(vitals.disk.ephemeral?.inode_percent ?? '', /^\d+$/);
    assert.equal(vitals.disk.persistent, undefined);
    assert.ok(vitals.uptime.secs > 0);
  });

  it('reports stopped while the stopped marker exists', async () => {
    await mkdir(join(f.base, 'var/vcap/monit'), { recursive: true });
    await writeFile(f.ctx.paths.stoppedMarker, '');
    const outcome = await f.dispatcher.dispatch('get_state', []);
    assert.ok('value' in outcome);
    assert.equal((outcome.value as { job_state: string }).job_state, 'stopped');
  });
});
