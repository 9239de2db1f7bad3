import type { RunErrandResult } from '@refit/protocol';
import type { InstanceRecord } from '../deployments/deployment-store.ts';
import type { UpdaterDeps } from '../updater/updater-ports.ts';
import { RunErrandError } from './errand-errors.ts';
import type { ErrandTarget } from './run-errand-task.ts';

export interface LifecycleErrandRun {
  readonly updater: UpdaterDeps;
  readonly instances: readonly InstanceRecord[];
  readonly keepAlive: boolean;
  readonly runOn: (targets: readonly ErrandTarget[]) => Promise<RunErrandResult[]>;
}

/**
 * An errand instance group (`lifecycle: errand`): runs on the instances' VMs where a kept-alive
 * run left them. Making the VMs for a run is not implemented yet: an instance without a VM is
 * refused with a RunErrandError naming it.
 */
export async function runLifecycleErrand(
  run: LifecycleErrandRun,
): Promise<[InstanceRecord, RunErrandResult][]> {
  const targets = run.instances.map((instance) => {
    if (instance.vm === null)
      throw new RunErrandError(
        `Errand instance group '${instance.group}': creating errand VMs is not supported yet (instance '${instance.group}/${instance.id}' has no VM)`,
      );
    return { instance, agentId: instance.vm.agentId };
  });
  const results = await run.runOn(targets);
  return targets.map((t, n): [InstanceRecord, RunErrandResult] => [
    t.instance,
    results[n] ?? { exit_code: -1, stdout: '', stderr: '' },
  ]);
}
