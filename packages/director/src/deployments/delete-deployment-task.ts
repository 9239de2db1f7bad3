import { z } from 'zod';
import { deleteLeftoverCompilationVms } from '../compilation/compilation-vm-pool.ts';
import { DeploymentNotFound } from '../errors.ts';
import type { DirectorDeps } from '../feature.ts';
import { DbIpReservationStore } from '../networking/ip-reservation-store.ts';
import { obsoletePlan } from '../planner/decide-action.ts';
import { clearReleaseUsages } from '../releases/release-lookup.ts';
import type { TaskHandler } from '../tasks/task-context.ts';
import { instanceLabel } from '../updater/instance-label.ts';
import { deleteLeftoverVmsStep } from '../updater/leftover-vms-step.ts';
import { runPool } from '../updater/run-pool.ts';
import { deleteInstance } from '../updater/update-instance.ts';
import { lockRefusal, updaterDeps, type DeploymentTaskDeps } from './deploy-task.ts';
import { DeploymentStore } from './deployment-store.ts';
import { recordStemcellUsages } from './persist-deployment.ts';

export const DELETE_DEPLOYMENT = 'delete_deployment';

export const DeleteDeploymentParams = z.object({
  deployment: z.string().min(1),
  force: z.boolean().default(false),
  lockHeld: z.object({ taskId: z.number(), description: z.string() }).nullable().default(null),
});
export type DeleteDeploymentParams = z.infer<typeof DeleteDeploymentParams>;

/**
 * `delete_deployment` (BOSH's jobs/delete_deployment.rb): every instance stopped (drain
 * `shutdown`), its disks detached, its VM deleted, its disks orphaned (kept on the IaaS and
 * listed by `GET /disks?orphaned=true`, as BOSH does); the VMs a killed deploy left (an
 * unfinished create-swap-delete, compilation VMs) are deleted too; then the IP reservations,
 * stemcell and release usages and the deployment row go. `force` carries on past errors of
 * single instances (their VMs may be left on the IaaS; their disks are orphaned all the same;
 * the error is logged as a warning).
 */
export function deleteDeploymentTask(
  deps: DirectorDeps,
  extra: DeploymentTaskDeps,
): TaskHandler<DeleteDeploymentParams> {
  return {
    type: DELETE_DEPLOYMENT,
    parseParams: (raw) => DeleteDeploymentParams.parse(raw),
    async run(ctx, params) {
      if (params.lockHeld !== null) throw lockRefusal(params.deployment, params.lockHeld);
      const store = new DeploymentStore(deps.db);
      if ((await store.get(params.deployment)) === null) {
        throw new DeploymentNotFound(`Deployment '${params.deployment}' doesn't exist`);
      }
      const updater = updaterDeps(deps, extra, ctx, params.deployment);
      const instances = await store.instances(params.deployment);
      if (instances.length > 0) {
        const stage = ctx.events.stage('Deleting instances', { total: instances.length });
        await runPool(instances, 32, async (instance) => {
          const plan = obsoletePlan(instance, false);
          try {
            await stage.task(instanceLabel(plan), (progress) => deleteInstance(updater, plan, progress));
          } catch (error) {
            if (!params.force) throw error;
            ctx.events.warning(`${instanceLabel(plan)}: ${(error as Error).message}`);
            await updater.store.instanceDeleted(plan.id);
          }
        });
      }
      await deleteLeftoverVmsStep(updater);
      await deleteLeftoverCompilationVms(
        { db: deps.db, cloud: deps.cloud, cpiLog: ctx.cpi },
        params.deployment,
      );
      const cleanup = ctx.events.stage('Removing deployment', { total: 1 });
      await cleanup.task('Removing deployment', async () => {
        await new DbIpReservationStore(deps.db).releaseDeployment(params.deployment);
        await recordStemcellUsages(deps.db, params.deployment, []);
        await clearReleaseUsages(deps.db, params.deployment);
        await store.delete(params.deployment);
      });
      await deps.events.record({
        action: 'delete',
        objectType: 'deployment',
        objectName: params.deployment,
        user: ctx.user,
        task: ctx.taskId,
        deployment: params.deployment,
      });
      return `/deployments/${params.deployment}`;
    },
  };
}
