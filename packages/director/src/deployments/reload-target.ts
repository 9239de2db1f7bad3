import type { CompiledInstanceGroup } from '../manifests/compile-manifest.ts';
import type { InstancePlan } from '../planner/plan-types.ts';
import type { TaskContext } from '../tasks/task-context.ts';
import type { ReloadSource } from '../updater/reload/reload-source.ts';
import { reloadSource, type ReloadPreflight } from './reload-preflight.ts';

/** `{reload}` for an instance's updater target when the preflight found its rootfs, else `{}`. */
export function reloadTarget(
  preflight: ReloadPreflight,
  plan: InstancePlan,
  groups: readonly CompiledInstanceGroup[],
  ctx: TaskContext,
): { reload?: ReloadSource } {
  const record = preflight.rootfs.get(plan.id);
  if (record === undefined) return {};
  const group = groups.find((g) => g.name === plan.group);
  const rootSha256 = preflight.rootSha256?.get(record.blobstoreId);
  return {
    reload: reloadSource(record, plan, {
      fallback: group?.update.reloadFallback ?? 'fail',
      ...(rootSha256 !== undefined ? { rootSha256 } : {}),
      debug: (line) => ctx.debug.write(`${line}\n`),
    }),
  };
}
