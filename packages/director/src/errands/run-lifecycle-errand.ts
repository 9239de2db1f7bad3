import type { RunErrandResult } from '@refit/protocol';
import { compileTaskPackages, type DeploymentTaskDeps } from '../deployments/deploy-task.ts';
import { DeploymentStore, type InstanceRecord } from '../deployments/deployment-store.ts';
import { prepareDeployment } from '../deployments/prepare-deployment.ts';
import type { DirectorDeps } from '../feature.ts';
import type { TaskContext } from '../tasks/task-context.ts';
import { deleteVmStep, updateInstance } from '../updater/update-instance.ts';
import type { UpdaterDeps } from '../updater/updater-ports.ts';
import { RunErrandError } from './errand-errors.ts';
import { instanceTargets } from '../deployments/instance-targets.ts';
import type { ErrandTarget } from './run-errand-task.ts';

export interface LifecycleErrandRun {
  readonly deps: DirectorDeps;
  readonly extra: DeploymentTaskDeps;
  readonly ctx: TaskContext;
  readonly updater: UpdaterDeps;
  /** The deployment's last deployed manifest. */
  readonly manifest: string;
  readonly instances: readonly InstanceRecord[];
  readonly keepAlive: boolean;
  readonly runOn: (targets: readonly ErrandTarget[]) => Promise<RunErrandResult[]>;
}

const label = (i: Pick<InstanceRecord, 'group' | 'id' | 'index'>) => `${i.group}/${i.id} (${i.index})`;

/**
 * An errand instance group (`lifecycle: errand`), as BOSH's LifecycleErrandStep: the deployed
 * manifest is prepared again with the errand group rendered, its packages compiled, and each
 * instance brought up by the updater's own instance update (VM created, or the kept-alive VM
 * re-applied; `Updating instance`), then `run_errand`. Unless `keepAlive`, the VMs are deleted
 * afterwards (`Deleting errand instances`), also when the run failed; the instance stays,
 * `detached`, with its IPs.
 */
export async function runLifecycleErrand(
  run: LifecycleErrandRun,
): Promise<[InstanceRecord, RunErrandResult][]> {
  const { deps, extra, ctx, updater } = run;
  const agents = extra.agents();
  const prepared = await prepareDeployment({
    db: deps.db,
    blobstore: deps.blobstore,
    cpiName: deps.cloud.name,
    manifestText: run.manifest,
    options: {},
    signal: ctx.signal,
    agents,
    errands: true,
    ...(extra.ruby ? { ruby: extra.ruby } : {}),
  });
  const packages = await compileTaskPackages(deps, extra, ctx, prepared);
  const ids = run.instances.map((i) => i.id);
  const targets = instanceTargets(prepared, packages, ids);
  for (const i of run.instances) {
    if (!targets.has(i.id))
      throw new RunErrandError(`Instance '${i.group}/${i.id}' is not in the deployed manifest's plan`);
  }
  const store = new DeploymentStore(deps.db);
  try {
    const updating = ctx.events.stage('Updating instance', { total: ids.length });
    await Promise.all(
      [...targets.values()].map((target) => {
        const group = prepared.plan.instanceGroups.find((g) => g.name === target.plan.group);
        const watch = group?.update.updateWatchTime ?? { minMs: 0, maxMs: 0 };
        return updating.task(label(target.plan), (progress) =>
          updateInstance(updater, target, { watch, precreated: null }, progress),
        );
      }),
    );
    const now = (await store.instances(updater.deployment)).filter((i) => ids.includes(i.id));
    const runOn: ErrandTarget[] = now.map((instance) => {
      if (instance.vm === null)
        throw new RunErrandError(`Instance '${instance.group}/${instance.id}' got no VM`);
      return { instance, agentId: instance.vm.agentId };
    });
    const results = await run.runOn(runOn);
    return runOn.map((t, n): [InstanceRecord, RunErrandResult] => [
      t.instance,
      results[n] ?? { exit_code: -1, stdout: '', stderr: '' },
    ]);
  } finally {
    if (!run.keepAlive) await deleteErrandVms(run, store, ids);
  }
}

async function deleteErrandVms(run: LifecycleErrandRun, store: DeploymentStore, ids: readonly string[]) {
  const withVm = (await store.instances(run.updater.deployment)).filter(
    (i) => ids.includes(i.id) && i.vm !== null,
  );
  if (withVm.length === 0) return;
  const stage = run.ctx.events.stage('Deleting errand instances', { total: withVm.length });
  await Promise.all(
    withVm.map((i) =>
      stage.task(label(i), async () => {
        if (i.vm === null) return;
        const plan = { id: i.id, group: i.group, index: i.index } as Parameters<typeof deleteVmStep>[1];
        await deleteVmStep(run.updater, plan, i.vm.cid);
        await store.setState(i.id, 'detached');
      }),
    ),
  );
}
