import type { ResurrectionRule } from '@refit/protocol';
import { DeploymentHealthState, type DeploymentHealth } from './meltdown.ts';
import { resurrectionEnabled } from './resurrection-rules.ts';

type JobsMap = Record<string, string[]>;

export type ResurrectionPlan =
  | { readonly kind: 'normal' }
  | { readonly kind: 'meltdown'; readonly skipped: JobsMap }
  | {
      readonly kind: 'managed';
      /** What `scan_and_fix` is asked to fix (may be empty). */
      readonly fix: JobsMap;
      /** Instance groups a resurrection rule disables. */
      readonly disabledByConfig: JobsMap;
      /** Instances with persistent disks, when stateful instances are not auto-fixed. */
      readonly skippedStateful: JobsMap;
    };

export interface ResurrectionPlanInput {
  readonly deployment: string;
  readonly jobsToInstanceIds: Readonly<Record<string, readonly string[]>>;
  readonly health: DeploymentHealth;
  readonly rules: readonly ResurrectionRule[];
  /** Ids of instances known to have a persistent disk. */
  readonly statefulInstanceIds: ReadonlySet<string>;
  readonly autoFixStatefulNodes: boolean;
}

const add = (into: JobsMap, job: string, id: string) => {
  (into[job] ??= []).push(id);
};

/** Pure decision of the resurrector on one `deployment_health` alert (BOSH `resurrector.rb`). */
export function planResurrection(input: ResurrectionPlanInput): ResurrectionPlan {
  if (input.health.state === DeploymentHealthState.normal) return { kind: 'normal' };
  if (input.health.state === DeploymentHealthState.meltdown) {
    const skipped: JobsMap = {};
    for (const [job, ids] of Object.entries(input.jobsToInstanceIds))
      for (const id of ids) add(skipped, job, id);
    return { kind: 'meltdown', skipped };
  }
  const fix: JobsMap = {};
  const disabledByConfig: JobsMap = {};
  const skippedStateful: JobsMap = {};
  for (const [job, ids] of Object.entries(input.jobsToInstanceIds)) {
    const enabled = resurrectionEnabled(input.rules, input.deployment, job);
    for (const id of ids) {
      if (!enabled) add(disabledByConfig, job, id);
      else if (!input.autoFixStatefulNodes && input.statefulInstanceIds.has(id))
        add(skippedStateful, job, id);
      else add(fix, job, id);
    }
  }
  return { kind: 'managed', fix, disabledByConfig, skippedStateful };
}

/** `web/uuid-1, web/uuid-2`, as BOSH lists instances in its resurrector alerts. */
export function prettyInstances(jobs: Readonly<Record<string, readonly string[]>>): string {
  return Object.entries(jobs)
    .flatMap(([job, ids]) => ids.map((id) => `${job}/${id}`))
    .join(', ');
}

export const isEmptyJobs = (jobs: Readonly<Record<string, readonly string[]>>): boolean =>
  Object.values(jobs).every((ids) => ids.length === 0);
