import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cloudConfigValue } from '../planner/planner-fixtures.test-support.ts';
import { compileCloudConfig } from './compile-cloud-config.ts';
import { ManifestInvalid } from './manifest-invalid.ts';

function problems(input: unknown): string[] {
  try {
    compileCloudConfig(input);
  } catch (error) {
    assert.ok(error instanceof ManifestInvalid, String(error));
    assert.equal(error.code, 40003);
    return error.problems.map((p) => `${p.path}: ${p.message}`);
  }
  assert.fail('expected the cloud config to be refused');
}

describe('compileCloudConfig', () => {
  it('compiles the fixture with defaults (type manual, empty cloud properties)', () => {
    const cloud = compileCloudConfig(cloudConfigValue());
    assert.deepEqual([...cloud.azs.keys()], ['z1', 'z2', 'z3']);
    const net = cloud.networks.get('default');
    assert.equal(net?.type, 'manual');
    assert.equal(cloud.diskTypes.get('ten')?.diskSize, 10240);
    assert.deepEqual(cloud.compilation, {
      workers: 2,
      reuseCompilationVms: false,
      az: 'z1',
      vmType: 'small',
      vmResources: null,
      cloudProperties: {},
      network: 'default',
      env: {},
      orphanWorkers: false,
    });
  });

  it('parses YAML text', () => {
    const cloud = compileCloudConfig('networks:\n- name: d\n  type: dynamic\n');
    assert.equal(cloud.networks.get('d')?.type, 'dynamic');
  });

  it('names the path of unknown keys and wrong types', () => {
    assert.deepEqual(problems({ azs: [{ name: 'z1', colour: 'red' }], vm_types: [{ name: 3 }] }), [
      'azs[0].colour: unknown key',
      'vm_types[0].name: expected a string, got 3',
    ]);
  });

  it('refuses bad subnets with their paths', () => {
    const got = problems({
      azs: [{ name: 'z1' }],
      networks: [
        {
          name: 'n',
          subnets: [
            {
              range: '127.1.0.0/24',
              gateway: '127.2.0.1',
              reserved: ['127.1.0.2 - 127.1.0.20', '127.9.0.1'],
              static: ['127.1.0.15 - 127.1.0.30'],
              az: 'z9',
            },
            { range: '127.1.0.0/99', gateway: '127.1.0.1' },
          ],
        },
      ],
      compilation: { workers: 1, network: 'nope', vm_type: 'x' },
    });
    assert.deepEqual(got, [
      "networks[0].subnets[0].gateway: '127.2.0.1' is outside subnet 127.1.0.0/24",
      "networks[0].subnets[0].reserved[1]: '127.9.0.1' is outside subnet 127.1.0.0/24",
      'networks[0].subnets[0].static: static range overlaps the reserved range',
      "networks[0].subnets[0].az: unknown az 'z9'",
      "networks[0].subnets[1].range: '127.1.0.0/99' is not an IPv4 CIDR range",
      "compilation.vm_type: unknown vm_type 'x'",
      "compilation.network: unknown network 'nope'",
    ]);
  });

  it('refuses duplicate names and an unknown network type', () => {
    assert.deepEqual(problems({ vm_types: [{ name: 'a' }, { name: 'a' }] }), [
      "vm_types[1].name: duplicate name 'a'",
    ]);
    assert.equal(problems({ networks: [{ name: 'n', type: 'magic' }] }).length, 1);
  });
});
