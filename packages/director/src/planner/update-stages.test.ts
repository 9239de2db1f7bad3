// planDeployment: rollout order (canaries, max_in_flight per AZ, serial groups).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { planDeployment } from './plan-deployment.ts';
import {
  compile,
  firstPlan,
  instances,
  manifestValue,
  replan,
  sequentialIds,
} from './planner-fixtures.test-support.ts';

describe('planDeployment: rollout order', () => {
  it('canaries come from the first AZ; max_in_flight is per AZ', () => {
    const m = manifestValue();
    m.instance_groups[0]!.instances = 5;
    m.update.max_in_flight = '50%';
    m.update.canaries = 1;
    const plan = firstPlan(m);
    assert.deepEqual(plan.instanceGroups[0]!.stages, [
      { az: 'z1', canary: true, instanceIds: ['id-0'], maxInFlight: 1 },
      { az: 'z1', canary: false, instanceIds: ['id-2', 'id-4'], maxInFlight: 1 },
      { az: 'z2', canary: false, instanceIds: ['id-1', 'id-3'], maxInFlight: 1 },
    ]);
    assert.deepEqual(
      instances(plan)
        .filter((i) => i.canary)
        .map((i) => i.id),
      ['id-0'],
    );
  });

  it('flags override the manifest', () => {
    const m = manifestValue();
    m.instance_groups[0]!.instances = 4;
    const plan = planDeployment({
      deployment: compile(m),
      current: { instances: [], reservations: [] },
      options: { canaries: '100%', maxInFlight: 10 },
      newId: sequentialIds(),
    });
    assert.deepEqual(plan.instanceGroups[0]!.stages, [
      { az: 'z1', canary: true, instanceIds: ['id-0', 'id-2'], maxInFlight: 10 },
      { az: 'z2', canary: false, instanceIds: ['id-1', 'id-3'], maxInFlight: 10 },
    ]);
  });

  it('serial and parallel groups; errands are not rolled out', () => {
    const m = manifestValue();
    const web = m.instance_groups[0]!;
    m.instance_groups = [
      { ...web, name: 'a' },
      { ...web, name: 'b', update: { serial: false } },
      { ...web, name: 'c', update: { serial: false } },
      { ...web, name: 'd' },
      { ...web, name: 'e', update: { serial: false } },
      { ...web, name: 't', lifecycle: 'errand' },
    ];
    const plan = firstPlan(m);
    assert.deepEqual(plan.groupRuns, [['a'], ['b', 'c'], ['d'], ['e']]);
    assert.deepEqual(plan.instanceGroups.find((g) => g.name === 't')?.stages, []);
  });

  it('initial deploy with initial_deploy_az_update_strategy: parallel', () => {
    const m = manifestValue();
    m.update.initial_deploy_az_update_strategy = 'parallel';
    assert.equal(firstPlan(m).instanceGroups[0]!.azsInParallel, true);
    assert.equal(replan(m, m).instanceGroups[0]!.azsInParallel, false);
  });
});
