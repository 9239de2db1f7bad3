// planDeployment: scaling and placement of instances across AZs and networks.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { planDeployment } from './plan-deployment.ts';
import {
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

describe('planDeployment: scaling and placement', () => {
  it('scale up keeps existing instances and adds new ones with the next indexes', () => {
    const after = manifestValue();
    after.instance_groups[0]!.instances = 5;
    const plan = replan(manifestValue(), after);
    assert.deepEqual(
      instances(plan).map((i) => [i.id, i.index, i.az, i.action]),
      [
        ['id-0', 0, 'z1', 'none'],
        ['id-1', 1, 'z2', 'none'],
        ['id-2', 2, 'z1', 'none'],
        ['new-0', 3, 'z2', 'create'],
        ['new-1', 4, 'z1', 'create'],
      ],
    );
  });

  it('scale down deletes the highest indexes, keeping AZs balanced', () => {
    const after = manifestValue();
    after.instance_groups[0]!.instances = 1;
    const plan = replan(manifestValue(), after);
    assert.deepEqual(
      instances(plan).map((i) => i.id),
      ['id-0'],
    );
    assert.deepEqual(
      plan.instanceGroups[0]!.obsolete.map((i) => [i.id, i.action]),
      [
        ['id-1', 'delete'],
        ['id-2', 'delete'],
      ],
    );
    assert.deepEqual(plan.ipReservations.release.map((r) => r.ip).sort(), ['127.1.0.31', '127.2.0.30']);
  });

  it('an AZ removed from the group moves its instances: old deleted, new created elsewhere', () => {
    const after = manifestValue();
    after.instance_groups[0]!.azs = ['z1', 'z3'];
    const plan = replan(manifestValue(), after);
    assert.deepEqual(
      instances(plan).map((i) => [i.id, i.az, i.action]),
      [
        ['id-0', 'z1', 'none'],
        ['id-2', 'z1', 'none'],
        ['new-0', 'z3', 'create'],
      ],
    );
    assert.deepEqual(
      plan.instanceGroups[0]!.obsolete.map((i) => [i.id, i.az]),
      [['id-1', 'z2']],
    );
    assert.equal(instances(plan)[2]!.index, 3);
  });

  it('a group removed from the manifest is deleted first', () => {
    const before = manifestValue();
    before.instance_groups.push({ ...before.instance_groups[0]!, name: 'worker', instances: 2 });
    const plan = replan(before, manifestValue());
    assert.deepEqual(
      plan.obsoleteInstances.map((i) => [i.group, i.action]),
      [
        ['worker', 'delete'],
        ['worker', 'delete'],
      ],
    );
    assert.equal(plan.deleteMaxInFlight, 2);
  });

  it('migrated_from renames a group and keeps its instances', () => {
    const after = manifestValue();
    after.instance_groups[0]!.name = 'frontend';
    after.instance_groups[0]!.migrated_from = [{ name: 'web' }];
    const plan = replan(manifestValue(), after);
    assert.deepEqual(
      instances(plan, 'frontend').map((i) => [i.id, i.migratedFrom]),
      [
        ['id-0', 'web'],
        ['id-1', 'web'],
        ['id-2', 'web'],
      ],
    );
    assert.deepEqual(plan.obsoleteInstances, []);
  });

  it('static IPs: AZ follows the IP subnet and instances keep their IPs', () => {
    const m = manifestValue();
    m.instance_groups[0]!.networks = [
      { name: 'default', static_ips: ['127.1.0.10', '127.2.0.10', '127.2.0.11'] },
    ];
    const plan = firstPlan(m);
    assert.deepEqual(
      instances(plan).map((i) => [i.index, i.az, i.networkSettings.default?.ip]),
      [
        [0, 'z1', '127.1.0.10'],
        [1, 'z2', '127.2.0.10'],
        [2, 'z2', '127.2.0.11'],
      ],
    );
    const after = manifestValue();
    after.instance_groups[0]!.networks = [
      { name: 'default', static_ips: ['127.2.0.11', '127.1.0.10', '127.2.0.10'] },
    ];
    const again = replan(m, after);
    assert.deepEqual(
      instances(again).map((i) => i.action),
      ['none', 'none', 'none'],
    );
  });

  it('replacing one static IP recreates that instance only (network)', () => {
    const m = manifestValue();
    m.instance_groups[0]!.networks = [
      { name: 'default', static_ips: ['127.1.0.10', '127.2.0.10', '127.1.0.11'] },
    ];
    const after = manifestValue();
    after.instance_groups[0]!.networks = [
      { name: 'default', static_ips: ['127.1.0.10', '127.2.0.10', '127.1.0.12'] },
    ];
    const plan = replan(m, after);
    assert.deepEqual(
      instances(plan).map((i) => [i.id, i.action, [...i.changes]]),
      [
        ['id-0', 'none', []],
        ['id-1', 'none', []],
        ['id-2', 'recreate', ['network']],
      ],
    );
    assert.deepEqual(
      plan.ipReservations.release.map((r) => r.ip),
      ['127.1.0.11'],
    );
    assert.deepEqual(
      plan.ipReservations.add.map((r) => r.ip),
      ['127.1.0.12'],
    );
  });

  it('dynamic IPs held by other deployments are skipped', () => {
    const plan = planDeployment({
      deployment: compile(one()),
      current: {
        instances: [],
        reservations: [],
        otherReservations: [
          { deployment: 'other', instanceId: 'x', network: 'default', ip: '127.1.0.30', type: 'dynamic' },
        ],
      },
      newId: sequentialIds(),
    });
    assert.equal(only(plan).networkSettings.default?.ip, '127.1.0.31');
  });
});

describe('planDeployment: more placement', () => {
  it('scaling static IPs up: existing instances keep theirs, the new IP goes to a new instance in its subnet AZ', () => {
    const m = manifestValue();
    m.instance_groups[0]!.instances = 2;
    m.instance_groups[0]!.networks = [{ name: 'default', static_ips: ['127.1.0.10', '127.2.0.10'] }];
    const after = manifestValue();
    after.instance_groups[0]!.instances = 3;
    after.instance_groups[0]!.networks = [
      { name: 'default', static_ips: ['127.1.0.10', '127.2.0.10', '127.2.0.11'] },
    ];
    const plan = replan(m, after);
    assert.deepEqual(
      instances(plan).map((i) => [i.id, i.az, i.action, i.networkSettings.default?.ip]),
      [
        ['id-0', 'z1', 'none', '127.1.0.10'],
        ['id-1', 'z2', 'none', '127.2.0.10'],
        ['new-0', 'z2', 'create', '127.2.0.11'],
      ],
    );
  });

  it('removing one static IP deletes the instance that held it', () => {
    const m = manifestValue();
    m.instance_groups[0]!.networks = [
      { name: 'default', static_ips: ['127.1.0.10', '127.2.0.10', '127.1.0.11'] },
    ];
    const after = manifestValue();
    after.instance_groups[0]!.instances = 2;
    after.instance_groups[0]!.networks = [{ name: 'default', static_ips: ['127.1.0.10', '127.1.0.11'] }];
    const plan = replan(m, after);
    assert.deepEqual(
      instances(plan).map((i) => [i.id, i.action]),
      [
        ['id-0', 'none'],
        ['id-2', 'none'],
      ],
    );
    assert.deepEqual(
      plan.instanceGroups[0]!.obsolete.map((i) => i.id),
      ['id-1'],
    );
  });

  it('a new instance takes the lowest free index', () => {
    const state = convergedState(firstPlan(manifestValue()));
    const plan = planDeployment({
      deployment: compile(),
      current: {
        instances: state.instances.filter((i) => i.index !== 1),
        reservations: state.reservations.filter((r) => r.instanceId !== 'id-1'),
      },
      newId: sequentialIds('new'),
    });
    assert.deepEqual(
      instances(plan).map((i) => [i.id, i.index, i.az, i.action]),
      [
        ['id-0', 0, 'z1', 'none'],
        ['new-0', 1, 'z2', 'create'],
        ['id-2', 2, 'z1', 'none'],
      ],
    );
  });
});
