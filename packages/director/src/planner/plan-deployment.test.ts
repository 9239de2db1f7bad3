// planDeployment: first deploy, each change alone, options and state overrides.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applyRenderedHashes } from './apply-rendered-hashes.ts';
import { planDeployment } from './plan-deployment.ts';
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

describe('planDeployment: first deploy', () => {
  it('creates every instance with indexes, balanced AZs and dynamic IPs from the subnet', () => {
    const plan = firstPlan();
    const web = instances(plan);
    assert.deepEqual(
      web.map((i) => [i.id, i.index, i.az, i.action, i.networkSettings.default?.ip]),
      [
        ['id-0', 0, 'z1', 'create', '127.1.0.30'],
        ['id-1', 1, 'z2', 'create', '127.2.0.30'],
        ['id-2', 2, 'z1', 'create', '127.1.0.31'],
      ],
    );
    assert.equal(plan.initialDeploy, true);
    assert.deepEqual(web[0]?.cloudProperties, { zone: 'one', cpu: 1 });
    assert.deepEqual(web[0]?.networkSettings.default, {
      type: 'manual',
      ip: '127.1.0.30',
      netmask: '255.255.255.0',
      gateway: '127.1.0.1',
      dns: ['127.0.0.53'],
      default: ['dns', 'gateway'],
      cloudProperties: {},
    });
    assert.equal(plan.ipReservations.add.length, 3);
  });

  it('a converged deployment plans nothing', () => {
    const plan = replan(manifestValue(), manifestValue());
    assert.deepEqual(
      instances(plan).map((i) => [i.action, [...i.changes]]),
      [
        ['none', []],
        ['none', []],
        ['none', []],
      ],
    );
    assert.deepEqual(plan.instanceGroups[0]?.stages, []);
    assert.deepEqual(plan.ipReservations.add, []);
    assert.deepEqual(plan.ipReservations.release, []);
  });
});

describe('planDeployment: each change alone', () => {
  it('a stemcell bump recreates with only `stemcell`', () => {
    const before = one();
    before.stemcells = [{ alias: 'default', os: 'ubuntu-jammy', version: '1.1' }];
    const after = one();
    after.stemcells = [{ alias: 'default', os: 'ubuntu-jammy', version: '1.2' }];
    const plan = only(replan(before, after));
    assert.deepEqual([...plan.changes], ['stemcell']);
    assert.equal(plan.action, 'recreate');
    assert.equal(plan.needsRecreate, true);
    assert.deepEqual(plan.stemcellStrategy, {
      strategy: 'recreate',
      reason: 'stemcell changed',
      reloadRefused: null,
    });
  });

  it('a vm_type renamed with identical cloud properties changes nothing', () => {
    const after = one();
    after.instance_groups[0]!.vm_type = 'small-renamed';
    const plan = only(replan(one(), after));
    assert.deepEqual([...plan.changes], []);
    assert.equal(plan.action, 'none');
  });

  it('a vm_type with other cloud properties recreates (cloud_properties)', () => {
    const after = one();
    after.instance_groups[0]!.vm_type = 'large';
    const plan = only(replan(one(), after));
    assert.deepEqual([...plan.changes], ['cloud_properties']);
    assert.equal(plan.action, 'recreate');
  });

  it('a vm_extension recreates (cloud_properties)', () => {
    const after = one();
    after.instance_groups[0]!.vm_extensions = ['lb'];
    assert.deepEqual([...only(replan(one(), after)).changes], ['cloud_properties']);
  });

  it('an env change recreates', () => {
    const after = one();
    after.instance_groups[0]!.env = { bosh: { password: 'x' } };
    const plan = only(replan(one(), after));
    assert.deepEqual([...plan.changes], ['env']);
    assert.equal(plan.action, 'recreate');
  });

  it('a property change is `configuration` only, in place', () => {
    const plan = replan(one(), one());
    const id = only(plan).id;
    const rendered = applyRenderedHashes(
      plan,
      new Map([[id, { packages: 'p1', job: 'j1', configuration: 'c2' }]]),
    );
    const i = only(rendered);
    assert.deepEqual([...i.changes], ['configuration']);
    assert.equal(i.action, 'update-in-place');
    assert.equal(i.needsRecreate, false);
    assert.equal(i.stemcellStrategy, null);
    assert.deepEqual(
      rendered.instanceGroups[0]?.stages.map((s) => s.instanceIds),
      [[id]],
    );
  });

  it('rendered hashes given up front give the same changes', () => {
    const state = convergedState(firstPlan(one()));
    const id = state.instances[0]!.id;
    const plan = planDeployment({
      deployment: compile(one()),
      current: state,
      renderedHashes: new Map([[id, { packages: 'p2', job: 'j1', configuration: 'c1' }]]),
      newId: sequentialIds('new'),
    });
    assert.deepEqual([...only(plan).changes], ['packages']);
  });

  it('a persistent disk size change is in place', () => {
    const after = one();
    after.instance_groups[0]!.persistent_disk = 2048;
    const plan = only(replan(one(), after));
    assert.deepEqual([...plan.changes], ['persistent_disk']);
    assert.equal(plan.action, 'update-in-place');
    assert.deepEqual(plan.persistentDisk, { size: 2048, cloudProperties: {} });
  });

  it('persistent_disk_type with the same size changes nothing', () => {
    const before = one();
    delete before.instance_groups[0]!.persistent_disk;
    before.instance_groups[0]!.persistent_disk_type = 'ten';
    const after = one();
    after.instance_groups[0]!.persistent_disk = 10240;
    assert.deepEqual([...only(replan(before, after)).changes], []);
  });

  it('an address newly reserved in the cloud config moves the instance: `network`, recreate', () => {
    const cloud = cloudConfigValue();
    const networks = cloud.networks as { subnets?: { reserved?: string[] }[] }[];
    networks[0]!.subnets![0]!.reserved = ['127.1.0.2 - 127.1.0.9', '127.1.0.30'];
    const plan = only(replan(one(), one(), {}, cloud));
    assert.deepEqual([...plan.changes], ['network']);
    assert.equal(plan.action, 'recreate');
    assert.equal(plan.networkSettings.default?.ip, '127.1.0.31');
  });

  it('a changed DNS server in the subnet changes `network` (settings) and keeps the IP', () => {
    const cloud = cloudConfigValue();
    const networks = cloud.networks as { subnets?: { dns?: string[] }[] }[];
    networks[0]!.subnets![0]!.dns = ['127.0.0.54'];
    const plan = only(replan(one(), one(), {}, cloud));
    assert.deepEqual([...plan.changes], ['network']);
    assert.equal(plan.networkSettings.default?.ip, '127.1.0.30');
  });

  it('the address a dynamic network got from the IaaS is not a change', () => {
    const m = one();
    m.instance_groups[0]!.networks = [{ name: 'dyn' }];
    const plan = only(
      replan(m, m, {
        mutate: (i) => ({
          ...i,
          vm: i.vm && {
            ...i.vm,
            networkSettings: {
              dyn: {
                ...i.vm.networkSettings.dyn!,
                ip: '127.7.0.9',
                netmask: '255.0.0.0',
                gateway: '127.0.0.1',
              },
            },
          },
        }),
      }),
    );
    assert.deepEqual([...plan.changes], []);
    assert.deepEqual(plan.networkSettings.dyn, {
      type: 'dynamic',
      ip: null,
      netmask: null,
      gateway: null,
      dns: [],
      default: ['dns', 'gateway'],
      cloudProperties: { dyn: true },
    });
  });

  it('tags only: `tags`, in place', () => {
    const after = one();
    after.tags = { team: 'a' };
    const plan = only(replan(one(), after));
    assert.deepEqual([...plan.changes], ['tags']);
    assert.equal(plan.action, 'update-in-place');
  });

  it('an unfinished update is `dirty`', () => {
    const plan = only(replan(one(), one(), { mutate: (i) => ({ ...i, updateCompleted: false }) }));
    assert.deepEqual([...plan.changes], ['dirty']);
    assert.equal(plan.action, 'update-in-place');
  });

  it('a job not running while it should is `state`', () => {
    const plan = only(replan(one(), one(), { mutate: (i) => ({ ...i, jobState: 'failing' }) }));
    assert.deepEqual([...plan.changes], ['state']);
  });

  it('a job spec change is `job`, in place', () => {
    const state = convergedState(firstPlan(one()));
    const id = state.instances[0]!.id;
    const plan = planDeployment({
      deployment: compile(one()),
      current: state,
      renderedHashes: new Map([[id, { packages: 'p1', job: 'j2', configuration: 'c1' }]]),
      newId: sequentialIds('new'),
    });
    assert.deepEqual([...only(plan).changes], ['job']);
    assert.equal(only(plan).action, 'update-in-place');
  });

  it('director settings hashes: blobstore_config and nats_config', () => {
    assert.deepEqual(
      [...only(replan(one(), one(), { settingsHashes: { blobstoreConfig: 'b2' } })).changes],
      ['blobstore_config'],
    );
    assert.deepEqual(
      [...only(replan(one(), one(), { settingsHashes: { natsConfig: 'n2' } })).changes],
      ['nats_config'],
    );
  });

  it('director settings hashes: trusted_certs', () => {
    const plan = only(replan(one(), one(), { settingsHashes: { trustedCerts: 'new' } }));
    assert.deepEqual([...plan.changes], ['trusted_certs']);
  });
});

describe('planDeployment: options', () => {
  it('--recreate recreates everything; recreate_vms_created_before only older VMs', () => {
    const all = replan(manifestValue(), manifestValue(), { options: { recreate: true } });
    assert.deepEqual(
      instances(all).map((i) => [...i.changes]),
      [['recreate'], ['recreate'], ['recreate']],
    );
    const older = replan(manifestValue(), manifestValue(), {
      options: { recreate: true, recreateVmsCreatedBefore: '2025-12-31T00:00:00Z' },
    });
    assert.deepEqual(
      instances(older).map((i) => i.action),
      ['none', 'none', 'none'],
    );
  });

  it('--fix recreates unresponsive agents only', () => {
    const plan = replan(manifestValue(), manifestValue(), {
      options: { fix: true },
      mutate: (i) => (i.index === 1 ? { ...i, agentResponsive: false } : i),
    });
    assert.deepEqual(
      instances(plan).map((i) => [i.index, [...i.changes]]),
      [
        [0, []],
        [1, ['recreate', 'state']],
        [2, []],
      ],
    );
  });

  it('recreate_persistent_disks', () => {
    const plan = only(replan(one(), one(), { options: { recreatePersistentDisks: true } }));
    assert.deepEqual([...plan.changes], ['recreate_persistent_disks', 'persistent_disk']);
  });

  it('skip_drain for a group or one instance', () => {
    const plan = replan(manifestValue(), manifestValue(), { options: { skipDrain: ['web/id-1'] } });
    assert.deepEqual(
      instances(plan).map((i) => i.skipDrain),
      [false, true, false],
    );
  });
});

describe('planDeployment: state overrides', () => {
  const run = (state: 'recreate' | 'restart' | 'stopped' | 'started' | 'detached', instance?: string) =>
    replan(manifestValue(), manifestValue(), {
      options: { instanceStateOverrides: [{ group: 'web', ...(instance ? { instance } : {}), state }] },
    });

  it('recreate one instance (by index)', () => {
    const plan = run('recreate', '1');
    assert.deepEqual(
      instances(plan).map((i) => i.action),
      ['none', 'recreate', 'none'],
    );
    assert.deepEqual([...instances(plan)[1]!.changes], ['recreate']);
  });

  it('restart', () => {
    const plan = run('restart', 'id-0');
    assert.deepEqual([...instances(plan)[0]!.changes], ['restart']);
    assert.equal(instances(plan)[0]!.action, 'update-in-place');
  });

  it('stopped, then started again', () => {
    const stopped = run('stopped');
    assert.deepEqual(
      instances(stopped).map((i) => [i.desiredState, i.action, [...i.changes]]),
      [
        ['stopped', 'update-in-place', ['state']],
        ['stopped', 'update-in-place', ['state']],
        ['stopped', 'update-in-place', ['state']],
      ],
    );
    const state = convergedState(stopped);
    const again = planDeployment({ deployment: compile(), current: state, newId: sequentialIds('x') });
    assert.deepEqual(
      instances(again).map((i) => i.action),
      ['none', 'none', 'none'],
      'a stopped instance stays stopped',
    );
    const started = planDeployment({
      deployment: compile(),
      current: state,
      options: { instanceStateOverrides: [{ group: '*', state: 'started' }] },
      newId: sequentialIds('x'),
    });
    assert.deepEqual(
      instances(started).map((i) => [i.action, [...i.changes]]),
      [
        ['update-in-place', ['state']],
        ['update-in-place', ['state']],
        ['update-in-place', ['state']],
      ],
    );
  });

  it('detached deletes the VM and keeps the instance; started creates it again', () => {
    const detached = run('detached', 'id-2');
    assert.deepEqual(
      instances(detached).map((i) => i.action),
      ['none', 'none', 'detach'],
    );
    const state = convergedState(detached);
    assert.equal(state.instances[2]!.vm, null);
    const started = planDeployment({
      deployment: compile(),
      current: state,
      options: { instanceStateOverrides: [{ group: 'web', instance: 'id-2', state: 'started' }] },
      newId: sequentialIds('x'),
    });
    assert.deepEqual(
      instances(started).map((i) => [i.id, i.action]),
      [
        ['id-0', 'none'],
        ['id-1', 'none'],
        ['id-2', 'create'],
      ],
    );
  });
});
