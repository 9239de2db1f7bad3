import type { Hash } from '../manifests/compile-cloud-config.ts';
import type { DeploymentPlan } from '../planner/plan-types.ts';
import type { ReleaseVersionContents } from '../releases/release-lookup.ts';
import { groupContents, templateSpec } from '../deployments/instance-specs.ts';
import type { LinkGroupInput } from './link-types.ts';
import { resolveLinks } from './resolve-links.ts';
import type { ResolvedLinks } from './link-types.ts';

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
    const contents = groupContents(group.group, releases);
    const bootstrapIndex = Math.min(...group.instances.map((i) => i.index));
    return {
      name: group.name,
      jobs: group.group.jobs.map((job, n) => ({
        name: job.name,
        spec: contents.jobs[n]?.job.spec ?? { provides: [], consumes: [], properties: {} },
        properties: Object.keys(job.properties).length > 0 ? job.properties : globalProperties,
        consumes: job.consumes,
        provides: job.provides,
      })),
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
