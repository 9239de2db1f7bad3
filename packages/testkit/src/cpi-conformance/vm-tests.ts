import assert from 'node:assert/strict';
import { it } from 'node:test';
import { CpiErrorType } from '@refit/protocol';
import type { ConformanceContext } from './run-cpi-conformance.ts';

/** VM lifecycle: create, has, metadata, reboot, delete, and what delete leaves behind. */
export function defineVmTests(ctx: ConformanceContext, hooks: { forget(cid: string): void }): void {
  const { cpi, timeout, options } = ctx;

  const booted = async (vm: string, atLeast: number) => {
    if (!options.bootCount) return;
    await ctx.eventually(`VM ${vm} boot ${atLeast}`, async () => (await options.bootCount!(vm)) >= atLeast);
  };

  it('create_vm returns [cid, networks] and the VM exists', { timeout }, async () => {
    const networks = ctx.networks();
    const result = await cpi.call('create_vm', ['agent-shape', ctx.stemcellCid(), {}, networks, [], {}]);
    assert.ok(Array.isArray(result) && result.length === 2, 'a two-element array (CPI API v2)');
    const [cid, returned] = result as [unknown, unknown];
    assert.equal(typeof cid, 'string');
    try {
      assert.deepEqual(Object.keys(returned as object).sort(), Object.keys(networks).sort());
      assert.equal(await cpi.call('has_vm', [cid]), true);
      await booted(cid as string, 1);
    } finally {
      await cpi.call('delete_vm', [cid]);
    }
  });

  it('VM lifecycle: metadata, reboot_vm, delete_vm, then VMNotFound', { timeout }, async () => {
    const vm = await ctx.createVm();
    await booted(vm, 1);
    assert.equal(
      await cpi.call('set_vm_metadata', [
        vm,
        { director: 'd', deployment: 'dep', name: 'web/0', index: '0', created_at: '2026-01-01T00:00:00Z' },
      ]),
      null,
    );
    assert.deepEqual(await cpi.call('get_disks', [vm]), []);
    assert.equal(await cpi.call('reboot_vm', [vm]), null);
    assert.equal(await cpi.call('has_vm', [vm]), true);
    await booted(vm, 2);
    assert.equal(await cpi.call('delete_vm', [vm]), null);
    hooks.forget(vm);
    assert.equal(await cpi.call('has_vm', [vm]), false);
    const again = await cpi.failure('delete_vm', [vm]);
    assert.equal(again.type, CpiErrorType.VMNotFound);
    const reboot = await cpi.failure('reboot_vm', [vm]);
    assert.equal(reboot.type, CpiErrorType.VMNotFound);
  });

  it('delete_vm leaves nothing behind on the host', { timeout }, async (t) => {
    if (!options.vmTraces) {
      t.skip('no vmTraces probe given');
      return;
    }
    const vm = await ctx.createVm();
    await booted(vm, 1);
    assert.notDeepEqual(await options.vmTraces(vm), [], 'the probe sees a running VM');
    await cpi.call('reboot_vm', [vm]);
    await booted(vm, 2);
    await cpi.call('delete_vm', [vm]);
    hooks.forget(vm);
    assert.deepEqual(await options.vmTraces(vm), []);
  });

  it('VMs run side by side and are deleted independently', { timeout }, async () => {
    const [a, b] = await Promise.all([ctx.createVm(), ctx.createVm()]);
    assert.notEqual(a, b);
    await Promise.all([booted(a, 1), booted(b, 1)]);
    await cpi.call('delete_vm', [a]);
    hooks.forget(a);
    assert.equal(await cpi.call('has_vm', [a]), false);
    assert.equal(await cpi.call('has_vm', [b]), true);
    if (options.vmTraces) assert.deepEqual(await options.vmTraces(a), []);
    await cpi.call('reboot_vm', [b]);
    await booted(b, 2);
    await cpi.call('delete_vm', [b]);
    hooks.forget(b);
  });
}
