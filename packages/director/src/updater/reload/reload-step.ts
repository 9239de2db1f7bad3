import type { WatchTimes } from '../../manifests/update-config.ts';
import type { StageProgress } from '../../tasks/task-context.ts';
import { instanceLabel } from '../instance-label.ts';
import type { InstanceTarget, UpdaterDeps } from '../updater-ports.ts';
import { reloadInstance } from './reload-instance.ts';
import type { ReloadSource } from './reload-source.ts';

/**
 * Reloads an instance; on failure applies `update.reload_fallback`: `fail` rethrows (a canary
 * failure stops the rollout as usual), `recreate` answers the target to recreate from the IaaS
 * stemcell v' instead (its agent treated as unresponsive: the VM is on v1 or not answering, its
 * jobs may be stopped). Null when the reload succeeded.
 */
export async function reloadStep(
  deps: UpdaterDeps,
  target: InstanceTarget & { reload: ReloadSource },
  watch: WatchTimes,
  progress: StageProgress,
): Promise<InstanceTarget | null> {
  try {
    await reloadInstance(deps, target, watch, progress);
    return null;
  } catch (error) {
    if (target.reload.fallback !== 'recreate') throw error;
    deps.signal.throwIfAborted();
    const message = (error as Error).message;
    const label = instanceLabel(target.plan);
    deps.events.warning(
      `${message}; reload_fallback: recreate: recreating ${label} from stemcell ${target.reload.stemcell.name}/${target.reload.stemcell.version}`,
    );
    target.reload.debug?.(`reload ${label} failed, recreating: ${message}`);
    progress.status(`reload failed, recreating from stemcell ${target.reload.stemcell.version}`);
    const { plan } = target;
    const existing = plan.existing === null ? null : { ...plan.existing, agentResponsive: false };
    const { reload: _dropped, ...rest } = target;
    return {
      ...rest,
      plan: {
        ...plan,
        existing,
        stemcellStrategy: { strategy: 'recreate', reason: `reload failed: ${message}`, reloadRefused: null },
      },
    };
  }
}
