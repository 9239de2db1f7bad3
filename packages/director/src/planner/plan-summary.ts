import type { DeploymentPlan, InstancePlan, PlanSummaryRow } from './plan-types.ts';

/** One row per instance touched or deleted, for `deploy --dry-run` and the event log. */
export function planSummary(plan: DeploymentPlan): PlanSummaryRow[] {
  const rows: PlanSummaryRow[] = plan.obsoleteInstances.map(row);
  for (const group of plan.instanceGroups) {
    rows.push(...group.obsolete.map(row), ...group.instances.map(row));
  }
  return rows;
}

function row(instance: InstancePlan): PlanSummaryRow {
  return {
    instance: `${instance.group}/${instance.id} (${instance.index})`,
    az: instance.az,
    action: instance.action,
    strategy: instance.stemcellStrategy?.strategy ?? null,
    reason: reasonOf(instance),
    changes: [...instance.changes],
  };
}

function reasonOf(instance: InstancePlan): string {
  switch (instance.action) {
    case 'create':
      return instance.existing ? 'instance has no VM' : 'new instance';
    case 'delete':
      return 'no longer in the manifest (removed group, scale-down or AZ change)';
    case 'detach':
      return 'stop --hard: VM deleted, disk kept';
    case 'recreate':
      return instance.stemcellStrategy?.reason ?? [...instance.changes].join(', ');
    case 'update-in-place':
      return `${[...instance.changes].join(', ')} changed`;
    case 'none':
      return 'no changes';
  }
}
