// planDeployment: impossible plans refused with a clear error, and robustness.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileCloudConfig } from '../manifests/compile-cloud-config.ts';
import { planDeployment } from './plan-deployment.ts';
import { PlanImpossible } from './plan-impossible.ts';
import {
  cloudConfigValue,
  compile,
  convergedState,
  firstPlan,
  instances,
  manifestValue,
  one,
  only,
  replan,
  sequentialIds,
} from './planner-fixtures.test-support.ts';

describe('planDeployment: impossible plans and robustness', () => {
  it('a static IP another deployment holds is refused before anything happens', () => {
    const m = one();
    m.instance_groups[0]!.networks = [{ name: 'default', static_ips: ['127.1.0.10'] }];
    assert.throws(
      () =>
        planDeployment({
          deployment: compile(m),
          current: {
            instances: [],
            reservations: [],
            otherReservations: [
              { deployment: 'other', instanceId: 'x', network: 'default', ip: '127.1.0.10', type: 'static' },
            ],
          },
          newId: sequentialIds(),
        }),
      (error: unknown) =>
        error instanceof PlanImpossible && /127\.1\.0\.10.*deployment 'other'/.test(error.message),
    );
  });

  it('a subnet with no free address left is refused, naming network and AZ', () => {
    const cloud = cloudConfigValue();
    const networks = cloud.networks as {
      subnets?: { range?: string; gateway?: string; reserved?: string[]; static?: string[] }[];
    }[];
    networks[0]!.subnets![0] = {
      ...networks[0]!.subnets![0],
      range: '127.1.0.0/29',
      reserved: ['127.1.0.2 - 127.1.0.5'],
      static: [],
    };
    const m = one();
    m.instance_groups[0]!.instances = 3;
    assert.throws(
      () =>
        planDeployment({
          deployment: compile(m, compileCloudConfig(cloud)),
          current: { instances: [], reservations: [] },
          newId: sequentialIds(),
        }),
      (error: unknown) =>
        error instanceof PlanImpossible &&
        error.message === "instance group 'web': network 'default' has no free address in az 'z1'",
    );
  });

  it('without recorded reservations an instance keeps the address its VM has', () => {
    const state = convergedState(firstPlan(manifestValue()));
    const plan = planDeployment({
      deployment: compile(),
      current: { instances: state.instances, reservations: [] },
      newId: sequentialIds('x'),
    });
    assert.deepEqual(
      instances(plan).map((i) => i.action),
      ['none', 'none', 'none'],
    );
    assert.equal(plan.ipReservations.add.length, 3);
  });

  it('errand groups are planned (ids, IPs) but never acted on by a deploy', () => {
    const m = one();
    m.instance_groups[0]!.lifecycle = 'errand';
    const plan = firstPlan(m);
    assert.deepEqual(
      instances(plan).map((i) => [i.action, i.networkSettings.default?.ip]),
      [['none', '127.1.0.30']],
    );
  });

  it('create-swap-delete falls back to delete-create for groups with static IPs', () => {
    const m = one();
    m.update.vm_strategy = 'create-swap-delete';
    assert.equal(firstPlan(m).instanceGroups[0]!.vmStrategy, 'create-swap-delete');
    m.instance_groups[0]!.networks = [{ name: 'default', static_ips: ['127.1.0.10'] }];
    assert.equal(firstPlan(m).instanceGroups[0]!.vmStrategy, 'delete-create');
  });

  it('create-swap-delete gives the new VM a fresh dynamic IP and keeps the old one reserved until the swap', () => {
    const swapping = (version: string) => {
      const m = one();
      m.update.vm_strategy = 'create-swap-delete';
      m.stemcells = [{ alias: 'default', os: 'ubuntu-jammy', version }];
      return m;
    };
    const plan = replan(swapping('1.1'), swapping('1.2'));
    const p = only(plan);
    assert.equal(p.action, 'recreate');
    assert.equal(p.existing?.vm?.networkSettings.default?.ip, '127.1.0.30');
    assert.equal(
      p.networkSettings.default?.ip,
      '127.1.0.31',
      'a fresh address: the old VM still has its own',
    );
    const old = {
      deployment: 'dep',
      instanceId: p.id,
      network: 'default',
      ip: '127.1.0.30',
      type: 'dynamic',
    };
    assert.deepEqual(p.releasedAfterSwap, [old]);
    assert.deepEqual(
      plan.ipReservations.add.map((r) => r.ip),
      ['127.1.0.31'],
    );
    assert.deepEqual(plan.ipReservations.release, [], 'released by the updater once the old VM is gone');

    // The next deploy finds the instance on its new address; were the old reservation still
    // there (director died before deleting the old VM), the VM's own address is the one kept.
    const state = convergedState(plan);
    assert.equal(state.reservations.length, 2);
    const next = planDeployment({
      deployment: compile(swapping('1.2')),
      current: state,
      newId: sequentialIds('next'),
    });
    assert.equal(only(next).action, 'none');
    assert.equal(only(next).networkSettings.default?.ip, '127.1.0.31');
    assert.deepEqual(next.ipReservations.release, [old]);

    // In-place changes keep the address; so does a recreate the updater does delete-create
    // (the agent does not answer).
    const inPlace = swapping('1.1');
    inPlace.instance_groups[0]!.persistent_disk = 2048;
    const resized = only(replan(swapping('1.1'), inPlace));
    assert.equal(resized.action, 'update-in-place');
    assert.equal(resized.networkSettings.default?.ip, '127.1.0.30');
    assert.equal(resized.releasedAfterSwap, undefined);
    const unresponsive = only(
      replan(swapping('1.1'), swapping('1.2'), { mutate: (i) => ({ ...i, agentResponsive: false }) }),
    );
    assert.equal(unresponsive.action, 'recreate');
    assert.equal(unresponsive.networkSettings.default?.ip, '127.1.0.30');
    assert.equal(unresponsive.releasedAfterSwap, undefined);
  });

  it('vm_resources need the cloud properties the CPI computed', () => {
    const m = one();
    delete m.instance_groups[0]!.vm_type;
    m.instance_groups[0]!.vm_resources = { cpu: 2, ram: 2048, ephemeral_disk_size: 4096 };
    const deployment = compile(m);
    assert.throws(
      () =>
        planDeployment({ deployment, current: { instances: [], reservations: [] }, newId: sequentialIds() }),
      PlanImpossible,
    );
    const plan = planDeployment({
      deployment,
      current: { instances: [], reservations: [] },
      vmResourcesCloudProperties: new Map([['web', { flavor: 'm2' }]]),
      newId: sequentialIds(),
    });
    assert.deepEqual(only(plan).cloudProperties, { zone: 'one', flavor: 'm2' });
  });
});
