import assert from 'node:assert/strict';
import { it } from 'node:test';
import { CpiErrorType } from '@refit/protocol';
import type { ConformanceContext } from './run-cpi-conformance.ts';

function assertHint(hint: unknown): void {
  const ok =
    (typeof hint === 'string' && hint !== '') ||
    (typeof hint === 'object' && hint !== null && !Array.isArray(hint) && Object.keys(hint).length > 0);
  assert.ok(ok, `attach_disk returns a disk hint (non-empty string or hash), got ${JSON.stringify(hint)}`);
}

/** Disk lifecycle: create, attach (hint), second attach refused, detach, delete. */
export function defineDiskTests(
  ctx: ConformanceContext,
  hooks: { forget(cid: string): void; forgetVm(cid: string): void },
): void {
  const { cpi, timeout } = ctx;

  it('disk lifecycle: create, metadata, attach, get_disks, detach, delete', { timeout }, async () => {
    const vm = await ctx.createVm();
    const disk = await ctx.createDisk();
    assert.equal(await cpi.call('has_disk', [disk]), true);
    assert.equal(
      await cpi.call('set_disk_metadata', [disk, { deployment: 'dep', instance_id: 'i-1' }]),
      null,
    );
    assertHint(await cpi.call('attach_disk', [vm, disk]));
    assert.deepEqual(await cpi.call('get_disks', [vm]), [disk]);

    const second = await cpi.failure('attach_disk', [vm, disk]);
    assert.notEqual(
      second.type,
      CpiErrorType.NotImplemented,
      'a second attach is refused with a clear error',
    );
    assert.ok(second.message.includes(disk), 'the error names the disk');

    assert.equal(await cpi.call('detach_disk', [vm, disk]), null);
    assert.deepEqual(await cpi.call('get_disks', [vm]), []);
    const detachAgain = await cpi.failure('detach_disk', [vm, disk]);
    assert.notEqual(detachAgain.type, CpiErrorType.NotImplemented);

    assertHint(await cpi.call('attach_disk', [vm, disk]));
    assert.equal(await cpi.call('detach_disk', [vm, disk]), null);
    assert.equal(await cpi.call('delete_disk', [disk]), null);
    hooks.forget(disk);
    assert.equal(await cpi.call('has_disk', [disk]), false);
    assert.equal((await cpi.failure('delete_disk', [disk])).type, CpiErrorType.DiskNotFound);
    await cpi.call('delete_vm', [vm]);
    hooks.forgetVm(vm);
  });

  it('attach_disk names what is missing: VMNotFound, DiskNotFound', { timeout }, async () => {
    const vm = await ctx.createVm();
    const disk = await ctx.createDisk();
    const noVm = await cpi.failure('attach_disk', ['vm-00000000-0000-4000-8000-000000000000', disk]);
    assert.equal(noVm.type, CpiErrorType.VMNotFound);
    const noDisk = await cpi.failure('attach_disk', [vm, 'disk-00000000-0000-4000-8000-000000000000']);
    assert.equal(noDisk.type, CpiErrorType.DiskNotFound);
    await cpi.call('delete_vm', [vm]);
    hooks.forgetVm(vm);
    await cpi.call('delete_disk', [disk]);
    hooks.forget(disk);
  });

  it(
    'delete_vm copes with an attached disk; the disk survives and attaches elsewhere',
    { timeout },
    async () => {
      const first = await ctx.createVm();
      const disk = await ctx.createDisk();
      assertHint(await cpi.call('attach_disk', [first, disk]));
      assert.equal(await cpi.call('reboot_vm', [first]), null);
      assert.deepEqual(await cpi.call('get_disks', [first]), [disk], 'attachments survive reboot_vm');
      assert.equal(await cpi.call('delete_vm', [first]), null);
      hooks.forgetVm(first);
      if (ctx.options.vmTraces) assert.deepEqual(await ctx.options.vmTraces(first), []);
      assert.equal(await cpi.call('has_disk', [disk]), true);

      const second = await ctx.createVm();
      assertHint(await cpi.call('attach_disk', [second, disk]));
      assert.deepEqual(await cpi.call('get_disks', [second]), [disk]);
      await cpi.call('detach_disk', [second, disk]);
      await cpi.call('delete_vm', [second]);
      hooks.forgetVm(second);
      await cpi.call('delete_disk', [disk]);
      hooks.forget(disk);
    },
  );
}
