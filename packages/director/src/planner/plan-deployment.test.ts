import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileCloudConfig } from '../manifests/compile-cloud-config.ts';
import { applyRenderedHashes } from './apply-rendered-hashes.ts';
import { planDeployment, type PlanInput, type PlanOptions } from './plan-deployment.ts';
import { PlanImpossible } from './plan-impossible.ts';
import { planSummary } from './plan-summary.ts';
import type { CurrentInstance, DeploymentPlan, InstancePlan } from './plan-types.ts';
import {
  cloudConfigValue,
  compile,
  convergedState,
  manifestValue,
  sequentialIds,
  type ManifestInput,
} from './planner-fixtures.test-support.ts';

function firstPlan(manifest: ManifestInput = manifestValue()): DeploymentPlan {
  return planDeployment({
    deployment: compile(manifest),
    current: { instances: [], reservations: [] },
    newId: sequentialIds(),
  });
}

/** Deploys `before`, converges, then plans `after` against that state. */
function replan(
  before: ManifestInput,
  after: ManifestInput,
  extra: Partial<PlanInput> & {
    options?: PlanOptions;
    mutate?: (i: CurrentInstance) => CurrentInstance;
  } = {},
  cloudAfter = cloudConfigValue(),
): DeploymentPlan {
  const state = convergedState(firstPlan(before));
  const instances = extra.mutate ? state.instances.map(extra.mutate) : state.instances;
  return planDeployment({
    deployment: compile(after, compileCloudConfig(cloudAfter)),
    current: { instances, reservations: state.reservations },
    newId: sequentialIds('new'),
    ...extra,
  });
}

function instances(plan: DeploymentPlan, group = 'web'): readonly InstancePlan[] {
  const g = plan.instanceGroups.find((x) => x.name === group);
  assert.ok(g, `group ${group} planned`);
  return g.instances;
}

function only(plan: DeploymentPlan): InstancePlan {
  const [first] = instances(plan);
  assert.ok(first);
  return first;
}

const one = (): ManifestInput => {
  const m = manifestValue();
  m.instance_groups[0]!.instances = 1;
  m.instance_groups[0]!.azs = ['z1'];
  return m;
};

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
