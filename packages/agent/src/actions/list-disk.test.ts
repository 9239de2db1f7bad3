import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Mounter } from '../disks/mounter.ts';
import { agentFixture, type AgentFixture } from '../testing/fixture.ts';

/** A mounter that says whatever the test sets: list_disk trusts the record only while mounted. */
const mounted = { now: true };
const reporting: Mounter = {
  bind: () => Promise.resolve(),
  unmount: () => Promise.resolve(),
  remount: () => Promise.resolve(),
  isMountPoint: () => Promise.resolve(mounted.now),
};

describe('list_disk', () => {
  let f: AgentFixture;
  before(async () => {
    f = await agentFixture({
      mounter: reporting,
      settings: { disks: { persistent: { 'disk-7': { path: '/' } } } },
    });
  });
  after(() => f.close());

  it('lists the mounted disk, and nothing once the mount is gone', async () => {
    assert.deepEqual(await f.call('list_disk'), { value: [] });
    assert.deepEqual(await f.call('mount_disk', ['disk-7']), { value: {} });
    assert.deepEqual(await f.call('list_disk'), { value: ['disk-7'] });
    mounted.now = false;
    assert.deepEqual(await f.call('list_disk'), { value: [] });
  });
});
