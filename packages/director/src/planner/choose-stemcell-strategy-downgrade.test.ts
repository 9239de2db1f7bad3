// planDeployment: a reload only moves forward; a downgrade recreates unless allowed.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { planSummary } from './plan-summary.ts';
import { instances, manifestValue, replan } from './planner-fixtures.test-support.ts';

/**
 * The VMs run stemcell `from` (as the database records it); the manifest asks for `to` (1.1 or
 * 1.2, the versions uploaded) with `--strategy reload` and a rootfs of `to` uploaded.
 */
function move(from: string, to: string, options: { allowDowngrade?: boolean; recreate?: boolean } = {}) {
  const manifest = manifestValue();
  manifest.stemcells = [{ alias: 'default', os: 'ubuntu-jammy', version: to }];
  return replan(manifest, manifest, {
    reloadable: [{ operatingSystem: 'ubuntu-jammy', version: to }],
    options: { stemcellStrategy: 'reload', ...options },
    mutate: (i) => ({ ...i, vm: i.vm && { ...i.vm, stemcell: { ...i.vm.stemcell, version: from } } }),
  });
}

describe('planDeployment: reload never moves down', () => {
  it('a downgrade is recreated from the IaaS stemcell, saying why', () => {
    const plan = move('1.2', '1.1');
    assert.deepEqual(
      instances(plan).map((i) => [i.action, i.stemcellStrategy]),
      Array(3).fill([
        'recreate',
        {
          strategy: 'recreate',
          reason:
            'stemcell downgrade 1.2 → 1.1: reload only moves forward (recreate from the IaaS stemcell; --allow-downgrade reloads)',
          reloadRefused: { kind: 'downgrade', from: '1.2', to: '1.1', ordered: true },
        },
      ]),
    );
    assert.equal(planSummary(plan)[0]?.strategy, 'recreate');
  });

  it('versions compare as BOSH orders them: numbers, pre-releases before their release', () => {
    const strategy = (from: string) => instances(move(from, '1.2'))[0]!.stemcellStrategy?.strategy;
    assert.equal(strategy('1.10'), 'recreate', '1.10 → 1.2 goes down');
    assert.equal(strategy('1.2.1'), 'recreate', '1.2.1 → 1.2 goes down');
    assert.equal(strategy('1.1.9'), 'reload');
    assert.equal(strategy('1.2-rc1'), 'reload', 'a release candidate moves up to its release');
  });

  it('versions that cannot be ordered are treated as a downgrade', () => {
    const decision = instances(move('1.x', '1.2'))[0]!.stemcellStrategy;
    assert.equal(decision?.strategy, 'recreate');
    assert.match(
      decision?.reason ?? '',
      /^stemcell versions 1\.x → 1\.2 cannot be ordered: reload only moves forward/,
    );
    assert.deepEqual(decision?.reloadRefused, { kind: 'downgrade', from: '1.x', to: '1.2', ordered: false });
  });

  it('allow_downgrade reloads, marking the decision so the agent is told', () => {
    const decision = instances(move('1.2', '1.1', { allowDowngrade: true }))[0]!.stemcellStrategy;
    assert.deepEqual(decision, {
      strategy: 'reload',
      reason: 'stemcell refit-ubuntu-jammy/1.2 → refit-ubuntu-jammy/1.1 (downgrade allowed)',
      reloadRefused: null,
      downgrade: { from: '1.2', to: '1.1' },
    });
  });

  it('an upgrade reloads without a downgrade mark, with or without the flag', () => {
    for (const allowDowngrade of [false, true]) {
      const decision = instances(move('1.1', '1.2', { allowDowngrade }))[0]!.stemcellStrategy;
      assert.equal(decision?.strategy, 'reload');
      assert.equal(decision?.downgrade, undefined);
    }
  });

  it('recreate --strategy reload of the same version is a repair, not a downgrade', () => {
    const decision = instances(move('1.2', '1.2', { recreate: true }))[0]!.stemcellStrategy;
    assert.equal(decision?.strategy, 'reload', decision?.reason);
    assert.equal(decision?.downgrade, undefined);
  });

  it('a downgrade with other VM changes names the other changes (they need a new VM anyway)', () => {
    const before = manifestValue();
    before.stemcells = [{ alias: 'default', os: 'ubuntu-jammy', version: '1.2' }];
    const after = manifestValue();
    after.stemcells = [{ alias: 'default', os: 'ubuntu-jammy', version: '1.1' }];
    after.instance_groups[0]!.env = { a: 1 };
    const plan = replan(before, after, {
      reloadable: [{ operatingSystem: 'ubuntu-jammy', version: '1.1' }],
      options: { stemcellStrategy: 'reload' },
    });
    assert.equal(instances(plan)[0]!.stemcellStrategy?.reloadRefused?.kind, 'other-changes');
  });
});
