import assert from 'node:assert/strict';
import { it } from 'node:test';
import { CpiErrorType } from '@refit/protocol';
import type { ConformanceContext } from './run-cpi-conformance.ts';

/** Shapes of the answers that need no VM, and NotImplemented for what a CPI may leave out. */
export function defineMethodTests(ctx: ConformanceContext): void {
  const { cpi, timeout } = ctx;

  it('info reports api_version >= 2 and its stemcell formats', { timeout }, async () => {
    const info = (await cpi.call('info', [])) as Record<string, unknown>;
    assert.equal(typeof info, 'object');
    assert.ok(typeof info['api_version'] === 'number' && info['api_version'] >= 2, 'api_version >= 2');
    const formats = info['stemcell_formats'];
    assert.ok(Array.isArray(formats) && formats.length > 0, 'stemcell_formats is a non-empty list');
    for (const f of formats) assert.equal(typeof f, 'string');
  });

  it('snapshot methods and unknown methods answer NotImplemented', { timeout }, async () => {
    for (const [method, args] of [
      ['snapshot_disk', ['disk-x', {}]],
      ['delete_snapshot', ['snap-x']],
      ['no_such_method', []],
    ] as const) {
      const error = await cpi.failure(method, args);
      assert.equal(error.type, CpiErrorType.NotImplemented, `${method} → NotImplemented`);
      assert.equal(error.ok_to_retry, false);
    }
  });

  it('calculate_vm_cloud_properties returns cloud properties', { timeout }, async () => {
    const props = await cpi.call('calculate_vm_cloud_properties', [
      { cpu: 2, ram: 1024, ephemeral_disk_size: 2048 },
    ]);
    assert.ok(typeof props === 'object' && props !== null && !Array.isArray(props), 'a hash');
  });

  it('unknown VM CIDs: has_vm is false; the others answer VMNotFound', { timeout }, async () => {
    const unknown = 'vm-00000000-0000-4000-8000-000000000000';
    assert.equal(await cpi.call('has_vm', [unknown]), false);
    for (const [method, args] of [
      ['delete_vm', [unknown]],
      ['reboot_vm', [unknown]],
      ['set_vm_metadata', [unknown, { name: 'x' }]],
      ['get_disks', [unknown]],
    ] as const) {
      const error = await cpi.failure(method, args);
      assert.equal(error.type, CpiErrorType.VMNotFound, `${method} of an unknown VM`);
    }
  });

  it('unknown disk CIDs: has_disk is false; the others answer DiskNotFound', { timeout }, async () => {
    const unknown = 'disk-00000000-0000-4000-8000-000000000000';
    assert.equal(await cpi.call('has_disk', [unknown]), false);
    for (const [method, args] of [
      ['delete_disk', [unknown]],
      ['set_disk_metadata', [unknown, { deployment: 'd' }]],
    ] as const) {
      const error = await cpi.failure(method, args);
      assert.equal(error.type, CpiErrorType.DiskNotFound, `${method} of an unknown disk`);
    }
  });

  it('create_vm with an unknown stemcell fails without leaving a VM', { timeout }, async () => {
    const error = await cpi.failure('create_vm', [
      'agent-x',
      'sc-00000000-0000-4000-8000-000000000000',
      {},
      ctx.networks(),
      [],
      {},
    ]);
    assert.ok(
      error.message.includes('sc-00000000-0000-4000-8000-000000000000'),
      'the message names the stemcell',
    );
  });

  if (ctx.options.loopbackOnly ?? true) {
    it(
      'create_vm refuses an address outside 127.0.0.0/8, naming the network and IP',
      { timeout },
      async () => {
        const error = await cpi.failure('create_vm', [
          'agent-x',
          ctx.stemcellCid(),
          {},
          { private: { type: 'manual', ip: '10.0.0.5', netmask: '255.255.255.0', cloud_properties: {} } },
          [],
          {},
        ]);
        assert.equal(error.type, CpiErrorType.CloudError);
        assert.match(error.message, /private/);
        assert.match(error.message, /10\.0\.0\.5/);
      },
    );
  }
}
