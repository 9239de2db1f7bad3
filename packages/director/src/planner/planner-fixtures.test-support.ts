import type { DeploymentManifest } from '@refit/protocol';
import type { z } from 'zod';
import { compileCloudConfig, type CompiledCloudConfig } from '../manifests/compile-cloud-config.ts';
import {
  compileManifest,
  type AvailableArtifacts,
  type CompiledDeployment,
} from '../manifests/compile-manifest.ts';
import { planDeployment, type PlanInput, type PlanOptions } from './plan-deployment.ts';
import type { CurrentInstance, DeploymentPlan, InstancePlan, IpReservation } from './plan-types.ts';

/** Loopback-only fixtures: every address is inside 127.0.0.0/8. */
export function cloudConfigValue(): Record<string, unknown> {
  return {
    azs: [
      { name: 'z1', cloud_properties: { zone: 'one' } },
      { name: 'z2', cloud_properties: { zone: 'two' } },
      { name: 'z3', cloud_properties: { zone: 'three' } },
    ],
    vm_types: [
      { name: 'small', cloud_properties: { cpu: 1 } },
      { name: 'small-renamed', cloud_properties: { cpu: 1 } },
      { name: 'large', cloud_properties: { cpu: 4 } },
    ],
    vm_extensions: [{ name: 'lb', cloud_properties: { lb: 'web' } }],
    disk_types: [
      { name: 'ten', disk_size: 10240 },
      { name: 'twenty', disk_size: 20480 },
    ],
    networks: [
      {
        name: 'default',
        type: 'manual',
        subnets: [
          {
            range: '127.1.0.0/24',
            gateway: '127.1.0.1',
            reserved: ['127.1.0.2 - 127.1.0.9'],
            static: ['127.1.0.10 - 127.1.0.29'],
            az: 'z1',
            dns: ['127.0.0.53'],
          },
          {
            range: '127.2.0.0/24',
            gateway: '127.2.0.1',
            reserved: ['127.2.0.2 - 127.2.0.9'],
            static: ['127.2.0.10 - 127.2.0.29'],
            az: 'z2',
          },
          { range: '127.3.0.0/24', gateway: '127.3.0.1', static: ['127.3.0.10 - 127.3.0.29'], az: 'z3' },
        ],
      },
      { name: 'dyn', type: 'dynamic', cloud_properties: { dyn: true } },
    ],
    compilation: { workers: 2, az: 'z1', vm_type: 'small', network: 'default' },
  };
}

export type ManifestInput = z.input<typeof DeploymentManifest>;

export function manifestValue(): ManifestInput {
  return {
    name: 'dep',
    releases: [{ name: 'app', version: '1' }],
    stemcells: [{ alias: 'default', os: 'ubuntu-jammy', version: 'latest' }],
    update: { canaries: 1, max_in_flight: 2, canary_watch_time: '1000-30000', update_watch_time: 5000 },
    instance_groups: [
      {
        name: 'web',
        azs: ['z1', 'z2'],
        instances: 3,
        jobs: [{ name: 'server', release: 'app', properties: { port: 8080 } }],
        vm_type: 'small',
        stemcell: 'default',
        persistent_disk: 1024,
        networks: [{ name: 'default' }],
      },
    ],
  };
}

export const available: AvailableArtifacts = {
  releases: [{ name: 'app', version: '1' }],
  stemcells: [
    { name: 'refit-ubuntu-jammy', version: '1.1', operatingSystem: 'ubuntu-jammy' },
    { name: 'refit-ubuntu-jammy', version: '1.2', operatingSystem: 'ubuntu-jammy' },
    { name: 'refit-windows', version: '2019.1', operatingSystem: 'windows2019' },
  ],
};

export function compile(
  manifest: unknown = manifestValue(),
  cloud: CompiledCloudConfig = compileCloudConfig(cloudConfigValue()),
): CompiledDeployment {
  return compileManifest({ manifest, cloudConfig: cloud, available });
}

/** Ids `id-0`, `id-1`, … */
export function sequentialIds(prefix = 'id'): () => string {
  let n = 0;
  return () => `${prefix}-${n++}`;
}

/**
 * The state a correct updater leaves behind after carrying out `plan`: every desired
 * instance has a VM matching the plan, deleted instances are gone.
 */
export function convergedState(
  plan: DeploymentPlan,
  createdAt = '2026-01-01T00:00:00Z',
): {
  instances: CurrentInstance[];
  reservations: IpReservation[];
} {
  const instances: CurrentInstance[] = [];
  for (const group of plan.instanceGroups) {
    for (const i of group.instances) {
      const replaced = i.action === 'create' || i.action === 'recreate';
      instances.push({
        id: i.id,
        group: i.group,
        index: i.index,
        az: i.az,
        state: i.desiredState,
        vm:
          i.desiredState === 'detached'
            ? null
            : {
                cid: `vm-${i.id}`,
                agentId: `agent-${i.id}`,
                stemcell: { name: i.stemcell?.name ?? '', version: i.stemcell?.version ?? '' },
                cloudProperties: i.cloudProperties,
                env: i.env,
                networkSettings: i.networkSettings,
                createdAt: replaced || !i.existing?.vm ? createdAt : i.existing.vm.createdAt,
              },
        hashes: { packages: 'p1', job: 'j1', configuration: 'c1' },
        disk: i.persistentDisk ? { cid: `disk-${i.id}`, ...i.persistentDisk } : null,
        tags: i.tags,
        updateCompleted: true,
        agentResponsive: true,
        jobState: i.desiredState === 'started' ? 'running' : 'stopped',
      });
    }
  }
  return { instances, reservations: [...plan.ipReservations.desired] };
}

export function firstPlan(manifest: ManifestInput = manifestValue()): DeploymentPlan {
  return planDeployment({
    deployment: compile(manifest),
    current: { instances: [], reservations: [] },
    newId: sequentialIds(),
  });
}

/** Deploys `before`, converges, then plans `after` against that state. */
export function replan(
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

export function instances(plan: DeploymentPlan, group = 'web'): readonly InstancePlan[] {
  const g = plan.instanceGroups.find((x) => x.name === group);
  if (g === undefined) throw new Error(`group ${group} not planned`);
  return g.instances;
}

export function only(plan: DeploymentPlan): InstancePlan {
  const [first] = instances(plan);
  if (first === undefined) throw new Error('no instance planned');
  return first;
}

export const one = (): ManifestInput => {
  const m = manifestValue();
  m.instance_groups[0]!.instances = 1;
  m.instance_groups[0]!.azs = ['z1'];
  return m;
};
