import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Mounter } from '../disks/mounter.ts';
import { agentFixture, type AgentFixture } from '../testing/fixture.ts';

const calls: string[] = [];
let isMounted = false;
const recording: Mounter = {
  bind: (source, target) => {
    calls.push(`bind ${source} ${target}`);
    isMounted = true;
    return Promise.resolve();
  },
  unmount: (target) => {
    calls.push(`unmount ${target}`);
    isMounted = false;
    return Promise.resolve();
  },
  remount: () => Promise.resolve(),
  isMountPoint: () => Promise.resolve(isMounted),
};

describe('unmount_disk', () => {
  let f: AgentFixture;
  before(async () => {
    f = await agentFixture({ mounter: recording, settings: { disks: { persistent: { d: '/' } } } });
  });
  after(() => f.close());

  it("unmounts /var/vcap/store with BOSH's message; a disk not mounted is not an error", async () => {
    assert.deepEqual(await f.call('unmount_disk', ['d']), {
      value: { message: 'Partition of d is not mounted' },
    });
    await f.call('mount_disk', ['d']);
    assert.deepEqual(await f.call('unmount_disk', ['d']), { value: { message: 'Unmounted partition of d' } });
    assert.deepEqual(calls, [`bind / ${f.ctx.paths.store}`, `unmount ${f.ctx.paths.store}`]);
  });
});

describe('persistent disk at boot', () => {
  it('mounts the recorded disk again, or the only disk the settings know', async () => {
    isMounted = false;
    calls.length = 0;
    const f = await agentFixture({
      mounter: recording,
      settings: { disks: { persistent: { a: '/', b: '/tmp' } } },
    });
    try {
      assert.equal(await f.ctx.disks.mountAtBoot(), null, 'two disks and no record: nothing to choose');
      await f.call('mount_disk', ['b']);
      isMounted = false; // the reboot
      assert.equal(await f.ctx.disks.mountAtBoot(), 'b');
      assert.deepEqual(await f.call('list_disk'), { value: ['b'] });
      assert.equal(await f.ctx.disks.mountAtBoot(), null, 'already mounted');
    } finally {
      await f.close();
    }
    isMounted = false;
    const g = await agentFixture({ mounter: recording, settings: { disks: { persistent: { only: '/' } } } });
    try {
      assert.equal(await g.ctx.disks.mountAtBoot(), 'only');
    } finally {
      await g.close();
    }
  });
});
