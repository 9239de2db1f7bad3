import type { Hash } from '../manifests/compile-cloud-config.ts';
import type { DeploymentPlan } from '../planner/plan-types.ts';
import type { ReleaseVersionContents } from '../releases/release-lookup.ts';
import { templateSpec } from '../deployments/instance-specs.ts';
import type { LinkGroupInput, ResolvedLinks } from './link-types.ts';
import { resolveLinks } from './resolve-links.ts';

/**
 * The links of a planned deployment: every instance group's jobs (their specs from the uploaded
 * releases, their manifest properties, `consumes` and `provides`) and desired instances
 * (address on the default network, bootstrap = lowest index), resolved by `resolveLinks`.
 */
export function planLinks(
  plan: DeploymentPlan,
  releases: ReadonlyMap<string, ReleaseVersionContents>,
  globalProperties: Hash,
): ResolvedLinks {
  const groups: LinkGroupInput[] = plan.instanceGroups.map((group) => {
    const bootstrapIndex = Math.min(...group.instances.map((i) => i.index));
    return {
      name: group.name,
      // A job missing from its release is reported when templates are read, not here.
      jobs: group.group.jobs.flatMap((job) => {
        const spec = releases.get(job.release)?.jobs.find((j) => j.name === job.name)?.spec;
        if (spec === undefined) return [];
        return [
          {
            name: job.name,
            spec,
            properties: Object.keys(job.properties).length > 0 ? job.properties : globalProperties,
            consumes: job.consumes,
            provides: job.provides,
          },
        ];
      }),
      instances: group.instances.map((instance) => {
        const bootstrap = instance.index === bootstrapIndex;
        return {
          id: instance.id,
          index: instance.index,
          az: instance.az,
          bootstrap,
          address: templateSpec(plan.name, instance, bootstrap).address,
          addresses: Object.fromEntries(
            Object.entries(instance.networkSettings).map(([name, settings]) => [name, settings.ip]),
          ),
        };
      }),
    };
  });
  return resolveLinks({ deployment: plan.name, groups });
}
