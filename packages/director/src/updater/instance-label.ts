import type { InstancePlan } from '../planner/plan-types.ts';
import type { StageProgress } from '../tasks/task-context.ts';
import type { UpdaterDeps } from './updater-ports.ts';

/** BOSH's name of an instance in event lines and errors: `web/<uuid> (0)`. */
export function instanceLabel(plan: Pick<InstancePlan, 'group' | 'id' | 'index'>): string {
  return `${plan.group}/${plan.id} (${plan.index})`;
}

/** Calls the CPI with the task's signal and cpi log. */
export function cpiCall(
  deps: Pick<UpdaterDeps, 'cloud' | 'signal' | 'cpiLog'>,
  method: string,
  args: readonly unknown[],
  stemcellApiVersion?: number | null,
): Promise<unknown> {
  return deps.cloud.call(method, args, {
    signal: deps.signal,
    log: deps.cpiLog,
    ...(stemcellApiVersion != null ? { stemcellApiVersion } : {}),
  });
}

/** A progress sink for steps run outside an event-log task. */
export const silentProgress: StageProgress = { status() {} };
