import type { ResurrectionRule } from '@refit/protocol';

type Filter = ResurrectionRule['include'];

/** Whether a filter names (deployment, instance group); an empty include names everything. */
function matches(
  filter: Filter,
  deployment: string,
  instanceGroup: string,
  kind: 'include' | 'exclude',
): boolean {
  const deployments = filter?.deployments ?? [];
  const groups = filter?.instance_groups ?? [];
  if (groups.length > 0 && !groups.includes(instanceGroup)) return false;
  if (deployments.length > 0 && !deployments.includes(deployment)) return false;
  return kind === 'include' || deployments.length > 0 || groups.length > 0;
}

/**
 * BOSH's `ResurrectionManager#resurrection_enabled?`: enabled unless some rule that applies
 * (included and not excluded) says `enabled: false`.
 */
export function resurrectionEnabled(
  rules: readonly ResurrectionRule[],
  deployment: string,
  instanceGroup: string,
): boolean {
  let enabled = true;
  for (const rule of rules) {
    const applies =
      matches(rule.include, deployment, instanceGroup, 'include') &&
      !matches(rule.exclude, deployment, instanceGroup, 'exclude');
    if (applies) enabled = enabled && rule.enabled;
  }
  return enabled;
}
