import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { agentFixture, type AgentFixture } from '../testing/fixture.ts';
import { reboot, rebootNow } from './reboot.ts';

describe('reboot', () => {
  let f: AgentFixture;
  before(async () => {
    f = await agentFixture();
  });
  after(() => f.close());

  it('answers first, then stops the jobs and reboots the machine', async () => {
    const steps: string[] = [];
    let rebooted!: () => void;
    const done = new Promise<void>((r) => (rebooted = r));
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
        rebooted();
        return Promise.resolve();
      },
    };
    const answer = await reboot.run(ctx, [], AbortSignal.timeout(1000));
    assert.equal(answer, 'rebooting');
    assert.deepEqual(steps, [], 'nothing happens before the answer');
    await done;
    assert.deepEqual(steps, ['stop jobs', 'reboot(2)']);
  });

  it('never reboots the host from a test context (the default refuses)', async () => {
    await assert.rejects(f.ctx.rebootMachine(), /not wired/);
    await assert.rejects(rebootNow(f.ctx), /not wired/);
  });
});
