import type { RenderedHashes } from './instance-changes.ts';
import { Change, changeOrder, type DeploymentPlan, type InstancePlan } from './plan-types.ts';
import { updateStages } from './update-stages.ts';

/**
 * Templates are rendered after planning (they need ids and IPs). This adds the `packages`,
 * `configuration` and `job` changes their hashes reveal, then settles actions and stages again.
 * Pure: returns a new plan.
 */
export function applyRenderedHashes(
  plan: DeploymentPlan,
  hashes: ReadonlyMap<string, RenderedHashes>,
): DeploymentPlan {
  const instanceGroups = plan.instanceGroups.map((group) => {
    const instances = group.instances.map((instance): InstancePlan => {
      const rendered = hashes.get(instance.id);
      const applied = instance.existing?.hashes;
      if (rendered === undefined || applied === undefined) return instance;
      const found = new Set(instance.changes);
      if (rendered.packages !== undefined && rendered.packages !== applied.packages)
        found.add(Change.packages);
      if (rendered.configuration !== undefined && rendered.configuration !== applied.configuration) {
        found.add(Change.configuration);
      }
      if (rendered.job !== undefined && rendered.job !== applied.job) found.add(Change.job);
      if (found.size === instance.changes.size) return instance;
      // These are in-place changes: a VM being replaced stays replaced, the same way.
      return {
        ...instance,
        changes: new Set(changeOrder.filter((c) => found.has(c))),
        action: instance.action === 'none' ? 'update-in-place' : instance.action,
      };
    });
    const { stages, canaryIds } = updateStages({
      azOrder: group.group.azs,
      instances,
      update: group.update,
      ...plan.rollout,
    });
    return {
      ...group,
      instances: instances.map((i) => ({ ...i, canary: canaryIds.has(i.id) })),
      stages: group.lifecycle === 'errand' ? [] : stages,
    };
  });
  return { ...plan, instanceGroups };
}
