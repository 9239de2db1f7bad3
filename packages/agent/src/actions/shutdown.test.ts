import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { agentFixture, type AgentFixture } from '../testing/fixture.ts';
import { actions } from './index.ts';
import { shutdown, shutdownNow } from './shutdown.ts';

describe('shutdown', () => {
  let f: AgentFixture;
  before(async () => {
    f = await agentFixture();
  });
  after(() => f.close());

  it('answers first, then stops the jobs and powers the machine off', async () => {
    const steps: string[] = [];
    let off!: () => void;
    const done = new Promise<void>((r) => (off = r));
    const ctx = {
      ...f.ctx,
      supervisor: Object.assign(Object.create(f.ctx.supervisor) as typeof f.ctx.supervisor, {
        stopAll: () => {
          steps.push('stop jobs');
          return Promise.resolve();
        },
      }),
      rebootMachine: () => {
        steps.push('reboot(2)');
        return Promise.resolve();
      },
      powerOffMachine: () => {
        steps.push('power off');
        off();
        return Promise.resolve();
      },
    };
    assert.equal(actions.get('shutdown'), shutdown, 'registered under its wire name');
    const answer = await shutdown.run(ctx, [], AbortSignal.timeout(1000));
    assert.equal(answer, 'shutdown');
    assert.deepEqual(steps, [], 'nothing happens before the answer');
    await done;
    assert.deepEqual(steps, ['stop jobs', 'power off']);
  });

  it('never powers the host off from a test context (the default refuses)', async () => {
    await assert.rejects(f.ctx.powerOffMachine(), /not wired/);
    await assert.rejects(shutdownNow(f.ctx), /not wired/);
  });
});
