import { canariesFor, maxInFlightFor, type Amount, type CompiledUpdate } from '../manifests/update-config.ts';
import type { InstancePlan, UpdateStage } from './plan-types.ts';

/**
 * The rollout of one group (reference §4.5): instances that need work, grouped by AZ in the
 * group's AZ order; in the first AZ the first min(canaries, n) are canaries (a percentage is of
 * that AZ's count) and run as their own stage; each AZ then runs with max_in_flight computed
 * on its own count. Flags override the manifest.
 */
export function updateStages(args: {
  readonly azOrder: readonly string[];
  readonly instances: readonly InstancePlan[];
  readonly update: CompiledUpdate;
  readonly canaries: Amount | null;
  readonly maxInFlight: Amount | null;
}): { readonly stages: UpdateStage[]; readonly canaryIds: ReadonlySet<string> } {
  const update: CompiledUpdate = {
    ...args.update,
    ...(args.canaries ? { canaries: args.canaries } : {}),
    ...(args.maxInFlight ? { maxInFlight: args.maxInFlight } : {}),
  };
  const work = args.instances.filter((i) => i.action !== 'none' && i.action !== 'delete');
  const order = [
    ...args.azOrder,
    ...new Set(work.map((i) => i.az).filter((az) => az === null || !args.azOrder.includes(az))),
  ];
  const byAz = order
    .map((az) => ({
      az,
      ids: work
        .filter((i) => i.az === az)
        .sort((a, b) => a.index - b.index)
        .map((i) => i.id),
    }))
    .filter((g) => g.ids.length > 0);
  const stages: UpdateStage[] = [];
  const canaryIds = new Set<string>();
  byAz.forEach(({ az, ids }, n) => {
    const maxInFlight = maxInFlightFor(update, ids.length);
    let rest = ids;
    if (n === 0) {
      const count = Math.min(canariesFor(update, ids.length), ids.length);
      if (count > 0) {
        const canaries = ids.slice(0, count);
        canaries.forEach((id) => canaryIds.add(id));
        stages.push({ az, canary: true, instanceIds: canaries, maxInFlight });
        rest = ids.slice(count);
      }
    }
    if (rest.length > 0) stages.push({ az, canary: false, instanceIds: rest, maxInFlight });
  });
  return { stages, canaryIds };
}

/** Consecutive `serial: false` groups form one run; a serial group runs alone. */
export function groupRuns(
  groups: readonly { readonly name: string; readonly serial: boolean }[],
): string[][] {
  const runs: string[][] = [];
  let parallel: string[] | null = null;
  for (const group of groups) {
    if (group.serial) {
      parallel = null;
      runs.push([group.name]);
    } else if (parallel) {
      parallel.push(group.name);
    } else {
      parallel = [group.name];
      runs.push(parallel);
    }
  }
  return runs;
}
