import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { systemMounter } from '../disks/mounter.ts';
import { agentFixture, type AgentFixture } from '../testing/fixture.ts';

// Real bind mounts need root (CAP_SYS_ADMIN), as the agent has inside a VM.
const root = process.getuid?.() === 0;

describe(
  'persistent disks: add, mount, list, unmount, remove',
  { skip: !root && 'needs root for mount(8)' },
  () => {
    let f: AgentFixture;
    beforeEach(async () => {
      f = await agentFixture();
    });
    afterEach(async () => {
      if (await systemMounter.isMountPoint(f.ctx.paths.store)) await systemMounter.unmount(f.ctx.paths.store);
      await f.close();
    });

    it('bind-mounts the hinted directory on /var/vcap/store and back', async () => {
      const disk = join(f.dir, 'disks/disk-1');
      await mkdir(disk, { recursive: true });
      await writeFile(join(disk, 'kept'), 'data');
      assert.deepEqual(await f.call('add_persistent_disk', ['disk-1', { path: disk }]), { value: {} });
      assert.deepEqual(await f.call('list_disk'), { value: [] });
      assert.deepEqual(await f.call('mount_disk', ['disk-1']), { value: {} });
      assert.deepEqual(await f.call('list_disk'), { value: ['disk-1'] });
      assert.equal(await readFile(join(f.ctx.paths.store, 'kept'), 'utf8'), 'data');
      await writeFile(join(f.ctx.paths.store, 'written'), 'through the mount');
      assert.equal(await readFile(join(disk, 'written'), 'utf8'), 'through the mount');
      // Mounting the same disk again is a no-op.
      assert.deepEqual(await f.call('mount_disk', ['disk-1']), { value: {} });
      assert.deepEqual(await f.call('list_disk'), { value: ['disk-1'] });

      assert.deepEqual(await f.call('unmount_disk', ['disk-1']), {
        value: { message: 'Unmounted partition of disk-1' },
      });
      assert.deepEqual(await f.call('list_disk'), { value: [] });
      assert.equal(await systemMounter.isMountPoint(f.ctx.paths.store), false);
      assert.deepEqual(await f.call('unmount_disk', ['disk-1']), {
        value: { message: 'Partition of disk-1 is not mounted' },
      });

      assert.deepEqual(await f.call('remove_persistent_disk', ['disk-1']), { value: {} });
      const gone = await f.call('mount_disk', ['disk-1']);
      assert.ok('exception' in gone && /could not be found in settings/.test(gone.exception));
    });

    it('mounts a second disk on store_migration_target while the store holds one, as the Go agent does', async () => {
      const target = join(f.ctx.paths.vcap, 'store_migration_target');
      const first = join(f.dir, 'disks/first');
      const second = join(f.dir, 'disks/second');
      await mkdir(first, { recursive: true });
      await mkdir(second, { recursive: true });
      await writeFile(join(second, 'on-second'), 'two');
      await f.call('add_persistent_disk', ['disk-1', first]);
      await f.call('add_persistent_disk', ['disk-2', { path: second }]);
      try {
        assert.deepEqual(await f.call('mount_disk', ['disk-1']), { value: {} });
        assert.deepEqual(await f.call('mount_disk', ['disk-2']), { value: {} });
        assert.equal(await systemMounter.isMountPoint(target), true);
        assert.equal(await readFile(join(target, 'on-second'), 'utf8'), 'two');
        await assert.rejects(
          readFile(join(f.ctx.paths.store, 'on-second')),
          'the store keeps the first disk',
        );
        assert.deepEqual(await f.call('list_disk'), { value: ['disk-1', 'disk-2'] });
        // Again: already where it belongs, nothing stacked.
        assert.deepEqual(await f.call('mount_disk', ['disk-2']), { value: {} });
        assert.deepEqual(await f.call('unmount_disk', ['disk-2']), {
          value: { message: 'Unmounted partition of disk-2' },
        });
        assert.equal(await systemMounter.isMountPoint(target), false, 'one mount only, now gone');
        assert.deepEqual(await f.call('list_disk'), { value: ['disk-1'] });
      } finally {
        while (await systemMounter.isMountPoint(target)) await systemMounter.unmount(target);
      }
    });

    it('finds disks the CPI put in the settings file, with a string hint', async () => {
      const disk = join(f.dir, 'settings-disk');
      await mkdir(disk);
      const g = await agentFixture({ settings: { disks: { persistent: { 'disk-s': disk } } } });
      try {
        assert.deepEqual(await g.call('mount_disk', ['disk-s']), { value: {} });
        assert.deepEqual(await g.call('list_disk'), { value: ['disk-s'] });
        assert.deepEqual(await g.call('unmount_disk', ['disk-s']), {
          value: { message: 'Unmounted partition of disk-s' },
        });
      } finally {
        if (await systemMounter.isMountPoint(g.ctx.paths.store))
          await systemMounter.unmount(g.ctx.paths.store);
        await g.close();
      }
    });

    it('refuses a hint that is not a visible directory', async () => {
      await f.call('add_persistent_disk', ['disk-x', join(f.dir, 'nowhere')]);
      const outcome = await f.call('mount_disk', ['disk-x']);
      assert.ok(
        'exception' in outcome && /hint path .*nowhere is not a visible directory/.test(outcome.exception),
      );
    });
  },
);
