import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { agentFixture, type AgentFixture } from '../testing/fixture.ts';

describe('info', () => {
  let f: AgentFixture;
  before(async () => {
    f = await agentFixture();
  });
  after(() => f.close());

  it('answers the agent API version', async () => {
    assert.deepEqual(await f.dispatcher.dispatch('info', []), { value: { api_version: 1 } });
  });
});
