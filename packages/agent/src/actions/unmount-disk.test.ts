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
