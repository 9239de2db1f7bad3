import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { stringify } from 'yaml';
import { compile, manifestValue, type ManifestInput } from '../planner/planner-fixtures.test-support.ts';
import { ManifestInvalid } from './manifest-invalid.ts';

function problems(manifest: unknown): string[] {
  try {
    compile(manifest);
  } catch (error) {
    assert.ok(error instanceof ManifestInvalid, String(error));
    return error.problems.map((p) => `${p.path}: ${p.message}`);
  }
  assert.fail('expected the manifest to be refused');
}

function withGroup(change: (g: ManifestInput['instance_groups'][number]) => void): ManifestInput {
  const m = manifestValue();
  change(m.instance_groups[0]!);
  return m;
}

describe('compileManifest', () => {
  it('compiles with defaults, resolving latest, from YAML text', () => {
    const d = compile(stringify(manifestValue()));
    assert.equal(d.name, 'dep');
    assert.deepEqual(d.stemcells.get('default'), {
      alias: 'default',
      name: 'refit-ubuntu-jammy',
      version: '1.2',
      operatingSystem: 'ubuntu-jammy',
    });
    const web = d.instanceGroups[0]!;
    assert.equal(web.lifecycle, 'service');
    assert.deepEqual(web.persistentDisk, { size: 1024, type: null, cloudProperties: {} });
    assert.deepEqual(web.networks, [
      { name: 'default', type: 'manual', staticIps: [], default: ['dns', 'gateway'] },
    ]);
    assert.deepEqual(web.update, {
      canaries: { kind: 'count', value: 1 },
      maxInFlight: { kind: 'count', value: 2 },
      canaryWatchTime: { minMs: 1000, maxMs: 30000 },
      updateWatchTime: { minMs: 5000, maxMs: 5000 },
      serial: true,
      vmStrategy: 'delete-create',
      initialDeployAzUpdateStrategy: 'serial',
      stemcellStrategy: 'recreate',
      reloadFallback: 'fail',
    });
  });

  it('a group update overrides the deployment key by key', () => {
    const d = compile(
      withGroup((g) => (g.update = { max_in_flight: '25%', stemcell_strategy: 'reload', serial: false })),
    );
    const u = d.instanceGroups[0]!.update;
    assert.deepEqual(
      [u.canaries, u.maxInFlight, u.serial, u.stemcellStrategy, u.reloadFallback],
      [{ kind: 'count', value: 1 }, { kind: 'percent', value: 25 }, false, 'reload', 'fail'],
    );
  });

  it('names unknown keys and wrong types by path', () => {
    const m = withGroup((g) => {
      (g as Record<string, unknown>).colour = 'red';
      (g as Record<string, unknown>).instances = 'three';
    }) as Record<string, unknown>;
    m.update = { canaries: 1, max_in_flight: 'lots', canary_watch_time: 1, update_watch_time: '9-1' };
    assert.deepEqual(problems(m), [
      "update.max_in_flight: 'lots' is invalid (must be an integer or a percentage such as '25%')",
      "instance_groups[0].instances: expected a number, got 'three'",
      'instance_groups[0].colour: unknown key',
    ]);
  });

  it('missing required keys', () => {
    const m = manifestValue() as Record<string, unknown>;
    delete m.update;
    assert.deepEqual(problems(m), ['update: is required']);
  });

  it('a static IP outside its subnet, in the reserved range, listed twice, or too few', () => {
    const m = manifestValue();
    m.instance_groups.push({
      ...m.instance_groups[0]!,
      name: 'db',
      azs: ['z1'],
      instances: 4,
      networks: [{ name: 'default', static_ips: ['127.1.0.10', '127.1.0.5', '127.9.0.5'] }],
    });
    m.instance_groups[0]!.networks = [
      { name: 'default', static_ips: ['127.1.0.10 - 127.1.0.11', '127.2.0.12'] },
    ];
    assert.deepEqual(problems(m), [
      "instance_groups[1].networks[0].static_ips[0]: '127.1.0.10' is already given to instance_groups[0].networks[0].static_ips[0]",
      "instance_groups[1].networks[0].static_ips[1]: '127.1.0.5' is in the reserved range of subnet 127.1.0.0/24",
      "instance_groups[1].networks[0].static_ips[2]: '127.9.0.5' is outside every subnet of network 'default'",
      'instance_groups[1].networks[0].static_ips: not enough static IPs: 4 instances need 4, 3 given',
    ]);
  });

  it('a static IP outside the only subnet names that subnet; dynamic addresses are refused as static', () => {
    const cloudless = withGroup((g) => {
      g.azs = ['z1'];
      g.instances = 2;
      g.networks = [{ name: 'default', static_ips: ['127.1.0.30', '127.2.0.10'] }];
    });
    assert.deepEqual(problems(cloudless), [
      "instance_groups[0].networks[0].static_ips[0]: '127.1.0.30' is not in the static range of subnet 127.1.0.0/24",
      "instance_groups[0].networks[0].static_ips[1]: '127.2.0.10' belongs to subnet 127.2.0.0/24, which is in none of the group's azs",
    ]);
  });

  it('unknown vm_type, disk_type, network, az, stemcell alias and release', () => {
    const m = withGroup((g) => {
      g.vm_type = 'huge';
      delete g.persistent_disk;
      g.persistent_disk_type = 'gold';
      g.networks = [{ name: 'nope' }];
      g.azs = ['z1', 'z9'];
      g.stemcell = 'other';
      g.jobs = [{ name: 'server', release: 'ghost' }];
      g.vm_extensions = ['x'];
    });
    assert.deepEqual(problems(m), [
      "instance_groups[0].azs[1]: unknown az 'z9'",
      "instance_groups[0].vm_type: unknown vm_type 'huge'",
      "instance_groups[0].vm_extensions[0]: unknown vm_extension 'x'",
      "instance_groups[0].stemcell: unknown stemcell alias 'other'",
      "instance_groups[0].persistent_disk_type: unknown disk_type 'gold'",
      "instance_groups[0].jobs[0].release: release 'ghost' is not in the manifest's releases",
      "instance_groups[0].networks[0].name: unknown network 'nope'",
    ]);
  });

  it('releases and stemcells that were not uploaded', () => {
    const m = manifestValue();
    m.releases = [
      { name: 'app', version: '7' },
      { name: 'other', version: 'latest' },
    ];
    m.stemcells = [{ alias: 'default', name: 'refit-ubuntu-jammy', version: '9' }];
    assert.deepEqual(problems(m), [
      "releases[0]: release 'app/7' has not been uploaded",
      "releases[1]: release 'other' has not been uploaded",
      "stemcells[0]: no stemcell 'refit-ubuntu-jammy' version '9' has been uploaded",
      "instance_groups[0].stemcell: unknown stemcell alias 'default'",
    ]);
  });

  it('variables and addons are refused clearly', () => {
    const m = manifestValue();
    m.variables = [{ name: 'pw', type: 'password' }];
    m.addons = [{ name: 'x' }];
    assert.deepEqual(problems(m), [
      "variables[0]: variable 'pw' cannot be generated: Refit has no config server yet; pass the value with --var or a vars file",
      'addons[0]: addons are not supported yet; add the jobs to the instance groups instead',
    ]);
  });

  it('several networks need one default for dns and gateway; dynamic networks take no static IPs', () => {
    const m = withGroup((g) => {
      g.networks = [
        { name: 'default' },
        { name: 'dyn', static_ips: ['127.1.0.10', '127.1.0.11', '127.1.0.12'] },
      ];
    });
    assert.deepEqual(problems(m), [
      "instance_groups[0].networks: exactly one network must be the default for 'dns' (found 0)",
      "instance_groups[0].networks: exactly one network must be the default for 'gateway' (found 0)",
      "instance_groups[0].networks[1].static_ips: network 'dyn' is dynamic: it cannot have static IPs",
    ]);
  });

  it('vm_type and vm_resources are exclusive; azs are required when the cloud config has azs', () => {
    const m = withGroup((g) => {
      g.vm_resources = { cpu: 1, ram: 1024, ephemeral_disk_size: 1024 };
      delete g.azs;
    });
    assert.deepEqual(problems(m), [
      'instance_groups[0].azs: is required: the cloud config defines azs',
      "instance_groups[0]: give exactly one of 'vm_type' or 'vm_resources'",
      "instance_groups[0].networks[0].name: network 'default' has no subnet without an az",
    ]);
  });
});
