import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { agentFixture, type AgentFixture } from '../testing/fixture.ts';

describe('remove_persistent_disk', () => {
  let f: AgentFixture;
  before(async () => {
    f = await agentFixture();
  });
  after(() => f.close());

  it('forgets the hint add_persistent_disk recorded', async () => {
    await f.call('add_persistent_disk', ['disk-1', '/d1']);
    await f.call('add_persistent_disk', ['disk-2', '/d2']);
    assert.deepEqual(await f.call('remove_persistent_disk', ['disk-1']), { value: {} });
    assert.deepEqual(f.ctx.settings.persistentDisks(), { 'disk-2': '/d2' });
  });
});
