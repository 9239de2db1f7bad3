import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { agentPaths } from '../paths.ts';
import { readSettingsFile, SettingsStore } from '../settings.ts';
import { agentFixture, type AgentFixture } from '../testing/fixture.ts';

describe('add_persistent_disk', () => {
  let f: AgentFixture;
  before(async () => {
    f = await agentFixture();
  });
  after(() => f.close());

  it('records the hint, and the record survives an agent restart', async () => {
    assert.deepEqual(
      await f.call('add_persistent_disk', ['disk-1', { path: '/var/vcap/bosh/disks/disk-1' }]),
      { value: {} },
    );
    assert.deepEqual(f.ctx.settings.persistentDisks(), { 'disk-1': { path: '/var/vcap/bosh/disks/disk-1' } });
    const again = await SettingsStore.load(
      agentPaths(f.base),
      await readSettingsFile(join(f.dir, 'settings.json')),
    );
    assert.deepEqual(again.persistentDisks(), { 'disk-1': { path: '/var/vcap/bosh/disks/disk-1' } });
  });

  it('refuses a hint without a path', async () => {
    const outcome = await f.dispatcher.dispatch('add_persistent_disk', ['disk-2', { lun: 3 }]);
    assert.ok('exception' in outcome && /invalid arguments/.test(outcome.exception));
  });
});
