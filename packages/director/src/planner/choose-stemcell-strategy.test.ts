// planDeployment: reload or recreate, and why (choose-stemcell-strategy.ts).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { planSummary } from './plan-summary.ts';
import { instances, manifestValue, replan, type ManifestInput } from './planner-fixtures.test-support.ts';

describe('planDeployment: stemcell strategy', () => {
  const bump = (strategy: 'reload' | 'recreate' | undefined, change?: (m: ManifestInput) => void) => {
    const before = manifestValue();
    before.stemcells = [{ alias: 'default', os: 'ubuntu-jammy', version: '1.1' }];
    const after = manifestValue();
    after.stemcells = [{ alias: 'default', os: 'ubuntu-jammy', version: '1.2' }];
    change?.(after);
    return replan(before, after, {
      reloadable: [{ operatingSystem: 'ubuntu-jammy', version: '1.2' }],
      options: strategy ? { stemcellStrategy: strategy } : {},
    });
  };

  it('reload when asked and the stemcell is the sole reason', () => {
    const plan = bump('reload');
    const reload = {
      strategy: 'reload',
      reason: 'stemcell refit-ubuntu-jammy/1.1 → refit-ubuntu-jammy/1.2',
      reloadRefused: null,
    };
    assert.deepEqual(
      instances(plan).map((i) => [i.action, i.stemcellStrategy]),
      [
        ['recreate', reload],
        ['recreate', reload],
        ['recreate', reload],
      ],
    );
  });

  it('the manifest can ask for reload (update.stemcell_strategy)', () => {
    const plan = bump(undefined, (m) => {
      m.update.stemcell_strategy = 'reload';
    });
    assert.equal(instances(plan)[0]!.stemcellStrategy?.strategy, 'reload');
  });

  it('a requested recreate recreates even when the manifest asks for reload; strategy=reload reloads', () => {
    const before = manifestValue();
    before.stemcells = [{ alias: 'default', os: 'ubuntu-jammy', version: '1.1' }];
    before.update.stemcell_strategy = 'reload';
    const viaManifest = replan(before, before, {
      reloadable: [{ operatingSystem: 'ubuntu-jammy', version: '1.1' }],
      options: { recreate: true },
    });
    assert.equal(instances(viaManifest)[0]!.stemcellStrategy?.strategy, 'recreate');
    const asked = replan(before, before, {
      reloadable: [{ operatingSystem: 'ubuntu-jammy', version: '1.1' }],
      options: { recreate: true, stemcellStrategy: 'reload' },
    });
    assert.equal(
      instances(asked)[0]!.stemcellStrategy?.strategy,
      'reload',
      instances(asked)[0]!.stemcellStrategy?.reason,
    );
  });

  it('recreate when not asked', () => {
    assert.equal(instances(bump(undefined))[0]!.stemcellStrategy?.strategy, 'recreate');
  });

  it('recreate, with the reason, when env changes too', () => {
    const plan = bump('reload', (m) => {
      m.instance_groups[0]!.env = { a: 1 };
    });
    assert.deepEqual(instances(plan)[0]!.stemcellStrategy, {
      strategy: 'recreate',
      reason: 'reload not possible: env needs a new VM',
      reloadRefused: { kind: 'other-changes', changes: ['env'] },
    });
  });

  it('recreate when the agent does not respond or no rootfs is uploaded', () => {
    const before = manifestValue();
    before.stemcells = [{ alias: 'default', os: 'ubuntu-jammy', version: '1.1' }];
    const after = manifestValue();
    after.stemcells = [{ alias: 'default', os: 'ubuntu-jammy', version: '1.2' }];
    const plan = replan(before, after, {
      reloadable: [],
      options: { stemcellStrategy: 'reload' },
      mutate: (i) => (i.index === 0 ? { ...i, agentResponsive: false } : i),
    });
    assert.deepEqual(
      instances(plan).map((i) => i.stemcellStrategy?.reason),
      [
        'reload not possible: the agent does not respond',
        'reload not possible: no generic stemcell ubuntu-jammy/1.2 uploaded (upload-rootfs)',
        'reload not possible: no generic stemcell ubuntu-jammy/1.2 uploaded (upload-rootfs)',
      ],
    );
  });

  it('the dry-run summary says what and why', () => {
    const rows = planSummary(bump('reload'));
    assert.deepEqual(rows[0], {
      instance: 'web/id-0 (0)',
      az: 'z1',
      action: 'recreate',
      strategy: 'reload',
      reason: 'stemcell refit-ubuntu-jammy/1.1 → refit-ubuntu-jammy/1.2',
      changes: ['stemcell'],
    });
  });
});
