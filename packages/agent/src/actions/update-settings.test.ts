import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { agentPaths } from '../paths.ts';
import { readSettingsFile, SettingsStore } from '../settings.ts';
import { agentFixture, type AgentFixture } from '../testing/fixture.ts';

describe('update_settings', () => {
  let f: AgentFixture;
  before(async () => {
    f = await agentFixture();
  });
  after(() => f.close());

  it('switches the blobstore at once and persists the update for the next start', async () => {
    const other = join(f.dir, 'other-blobs');
    await mkdir(other);
    const outcome = await f.call('update_settings', [
      { blobstores: [{ provider: 'local', options: { blobstore_path: other } }], trusted_certs: '' },
    ]);
    assert.deepEqual(outcome, { value: 'ok' });
    assert.deepEqual(f.ctx.settings.blobstore(), { provider: 'local', options: { blobstore_path: other } });
    const reloaded = await SettingsStore.load(
      agentPaths(f.base),
      await readSettingsFile(join(f.dir, 'settings.json')),
    );
    assert.deepEqual(reloaded.blobstore().options, { blobstore_path: other });
  });

  it('refuses arguments that are not a settings object', async () => {
    const outcome = await f.dispatcher.dispatch('update_settings', ['nope']);
    assert.ok('exception' in outcome && /invalid arguments/.test(outcome.exception));
  });
});
