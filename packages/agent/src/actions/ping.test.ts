import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { agentFixture, type AgentFixture } from '../testing/fixture.ts';

describe('ping', () => {
  let f: AgentFixture;
  before(async () => {
    f = await agentFixture();
  });
  after(() => f.close());

  it('ping answers pong at once', async () => {
    assert.deepEqual(await f.dispatcher.dispatch('ping', []), { value: 'pong' });
  });

  it('an unknown method gets BOSH\'s "unknown message"', async () => {
    assert.deepEqual(await f.dispatcher.dispatch('reboot_now', []), {
      exception: 'unknown message reboot_now',
    });
  });
});
