import assert from 'node:assert/strict';
import {
  chmod,
  chown,
  link,
  lstat,
  mkdir,
  readFile,
  readlink,
  stat,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { systemMounter, type Mounter } from '../disks/mounter.ts';
import { agentFixture, type AgentFixture } from '../testing/fixture.ts';

// Real bind mounts need root (CAP_SYS_ADMIN), as the agent has inside a VM.
const root = process.getuid?.() === 0;

/** Writes to `path`, answering the error code (or 'written'): what a straggling job would see. */
async function tryWrite(path: string): Promise<string> {
  try {
    await writeFile(path, 'straggler');
    return 'written';
  } catch (error) {
    return (error as NodeJS.ErrnoException).code ?? String(error);
  }
}

describe('migrate_disk', { skip: !root && 'needs root for mount(8) and chown' }, () => {
  let f: AgentFixture;
  let oldDisk: string;
  let newDisk: string;
  const target = () => join(f.ctx.paths.vcap, 'store_migration_target');

  /** Runs as the migration target is unmounted: right after the copy, before the store moves. */
  let afterCopy: (() => Promise<void>) | null = null;
  const probing: Mounter = {
    ...systemMounter,
    async unmount(point) {
      if (point === target()) await afterCopy?.();
      await systemMounter.unmount(point);
    },
  };

  beforeEach(async () => {
    afterCopy = null;
    f = await agentFixture({ mounter: probing });
    oldDisk = join(f.dir, 'disks/old');
    newDisk = join(f.dir, 'disks/new');
    await mkdir(join(oldDisk, 'db/nested'), { recursive: true });
    await mkdir(newDisk, { recursive: true });
    await writeFile(join(oldDisk, 'db/nested/data'), 'persistent data');
    await chmod(join(oldDisk, 'db/nested/data'), 0o640);
    await chown(join(oldDisk, 'db/nested/data'), 1234, 2345);
    await chmod(join(oldDisk, 'db'), 0o700);
    await writeFile(join(oldDisk, '.hidden'), 'dotfile');
    await symlink('db/nested/data', join(oldDisk, 'link'));
    await link(join(oldDisk, 'db/nested/data'), join(oldDisk, 'hardlink'));
    await f.call('add_persistent_disk', ['disk-old', oldDisk]);
    assert.deepEqual(await f.call('mount_disk', ['disk-old']), { value: {} });
  });
  afterEach(async () => {
    for (const point of [target(), f.ctx.paths.store]) {
      while (await systemMounter.isMountPoint(point)) await systemMounter.unmount(point);
    }
    await f.close();
  });

  it('copies the store onto the new disk, keeping modes, owners and links, and mounts it', async () => {
    await writeFile(join(f.ctx.paths.store, 'written-through-store'), 'late write');
    await f.call('add_persistent_disk', ['disk-new', { path: newDisk }]);
    assert.deepEqual(await f.call('migrate_disk', ['disk-old', 'disk-new']), {
      value: { mounted: 'disk-new' },
    });
    assert.deepEqual(await f.call('list_disk'), { value: ['disk-new'] });
    assert.equal(await systemMounter.isMountPoint(target()), false);

    // The store is the new disk now: a write lands there, not on the old one.
    await writeFile(join(f.ctx.paths.store, 'after'), 'on the new disk');
    assert.equal(await readFile(join(newDisk, 'after'), 'utf8'), 'on the new disk');
    await assert.rejects(stat(join(oldDisk, 'after')));

    const data = await stat(join(newDisk, 'db/nested/data'));
    assert.equal(data.mode & 0o777, 0o640);
    assert.deepEqual([data.uid, data.gid], [1234, 2345]);
    assert.equal((await stat(join(newDisk, 'db'))).mode & 0o777, 0o700);
    assert.equal(await readFile(join(newDisk, 'db/nested/data'), 'utf8'), 'persistent data');
    assert.equal(await readFile(join(newDisk, '.hidden'), 'utf8'), 'dotfile');
    assert.equal(await readFile(join(newDisk, 'written-through-store'), 'utf8'), 'late write');
    assert.ok((await lstat(join(newDisk, 'link'))).isSymbolicLink());
    assert.equal(await readlink(join(newDisk, 'link')), 'db/nested/data');
    assert.equal((await stat(join(newDisk, 'hardlink'))).ino, data.ino);
    // The old disk keeps its data until the director deletes it.
    assert.equal(await readFile(join(oldDisk, 'db/nested/data'), 'utf8'), 'persistent data');

    // A retried call (its reply lost) finds the work done.
    assert.deepEqual(await f.call('migrate_disk', ['disk-old', 'disk-new']), {
      value: { mounted: 'disk-new' },
    });
    assert.deepEqual(await f.call('list_disk'), { value: ['disk-new'] });
  });

  it('remounts the old store read-only for the copy: a straggling write fails instead of being lost', async () => {
    await f.call('add_persistent_disk', ['disk-new', newDisk]);
    assert.deepEqual(await f.call('mount_disk', ['disk-new']), { value: {} });
    assert.equal(await tryWrite(join(f.ctx.paths.store, 'before')), 'written');
    const seen: string[] = [];
    afterCopy = async () => {
      seen.push(await tryWrite(join(f.ctx.paths.store, 'during')));
    };
    assert.deepEqual(await f.call('migrate_disk', ['disk-old', 'disk-new']), {
      value: { mounted: 'disk-new' },
    });
    assert.deepEqual(seen, ['EROFS']);
    await assert.rejects(stat(join(oldDisk, 'during')));
    assert.equal(await readFile(join(newDisk, 'before'), 'utf8'), 'straggler');
    // The new disk on the store is writable; the old one is not mounted anywhere any more.
    assert.equal(await tryWrite(join(f.ctx.paths.store, 'after')), 'written');
    assert.equal(await readFile(join(newDisk, 'after'), 'utf8'), 'straggler');
    assert.equal(await systemMounter.isMountPoint(target()), false);
  });

  it("BOSH's sequence: mount_disk(new) lands on the migration target, then migrate_disk moves it to the store", async () => {
    await writeFile(join(newDisk, 'stale'), 'left by nobody');
    await f.call('add_persistent_disk', ['disk-new', newDisk]);
    assert.deepEqual(await f.call('mount_disk', ['disk-new']), { value: {} });
    assert.equal(await systemMounter.isMountPoint(target()), true);
    assert.deepEqual(await f.call('list_disk'), { value: ['disk-old', 'disk-new'] });
    assert.deepEqual(await f.call('migrate_disk', ['disk-old', 'disk-new']), {
      value: { mounted: 'disk-new' },
    });
    assert.deepEqual(await f.call('list_disk'), { value: ['disk-new'] });
    assert.equal(await systemMounter.isMountPoint(target()), false, 'the target mount is gone, not stacked');
    assert.equal(await readFile(join(f.ctx.paths.store, 'db/nested/data'), 'utf8'), 'persistent data');
    await writeFile(join(f.ctx.paths.store, 'after'), 'new');
    assert.equal(await readFile(join(newDisk, 'after'), 'utf8'), 'new');
    // The old disk is no longer mounted anywhere: unmount_disk(old) is the no-op BOSH expects.
    assert.deepEqual(await f.call('unmount_disk', ['disk-old']), {
      value: { message: 'Partition of disk-old is not mounted' },
    });
  });

  it('a failed copy unmounts the target and leaves the old disk on the store', async () => {
    await f.call('add_persistent_disk', ['disk-new', newDisk]);
    await f.call('mount_disk', ['disk-new']);
    // Root can read and write anything: make cp fail with a file where it needs a directory.
    await writeFile(join(target(), 'db'), 'not a directory');
    const outcome = await f.call('migrate_disk', ['disk-old', 'disk-new']);
    assert.ok('exception' in outcome && /copying .* failed/.test(outcome.exception), JSON.stringify(outcome));
    assert.equal(await systemMounter.isMountPoint(target()), false);
    assert.deepEqual(await f.call('list_disk'), { value: ['disk-old'] });
    assert.equal(await readFile(join(f.ctx.paths.store, 'db/nested/data'), 'utf8'), 'persistent data');
    // The old store is read-write again, as it was before the migration.
    assert.equal(await tryWrite(join(f.ctx.paths.store, 'after-failure')), 'written');
    assert.equal(await readFile(join(oldDisk, 'after-failure'), 'utf8'), 'straggler');
    // What the director sends next to remove the new disk answers without failing.
    assert.deepEqual(await f.call('unmount_disk', ['disk-new']), {
      value: { message: 'Partition of disk-new is not mounted' },
    });
  });

  it('leaves the old disk mounted when the new one cannot be used', async () => {
    await f.call('add_persistent_disk', ['disk-new', join(f.dir, 'nowhere')]);
    const missing = await f.call('migrate_disk', ['disk-old', 'disk-new']);
    assert.ok('exception' in missing && /not a visible directory/.test(missing.exception));
    const unknown = await f.call('migrate_disk', ['disk-old', 'disk-other']);
    assert.ok('exception' in unknown && /could not be found in settings/.test(unknown.exception));
    assert.deepEqual(await f.call('list_disk'), { value: ['disk-old'] });
    assert.equal(await readFile(join(f.ctx.paths.store, 'db/nested/data'), 'utf8'), 'persistent data');
    assert.equal(await systemMounter.isMountPoint(target()), false);
  });

  it('refuses to migrate from a disk that is not mounted', async () => {
    await f.call('add_persistent_disk', ['disk-new', newDisk]);
    const outcome = await f.call('migrate_disk', ['disk-elsewhere', 'disk-new']);
    assert.ok('exception' in outcome && /disk-elsewhere: it is not mounted/.test(outcome.exception));
    assert.deepEqual(await f.call('list_disk'), { value: ['disk-old'] });
  });
});
