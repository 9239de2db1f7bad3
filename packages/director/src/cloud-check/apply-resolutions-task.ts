import { z } from 'zod';
import { updaterDeps } from '../deployments/deploy-task.ts';
import { DeploymentStore } from '../deployments/deployment-store.ts';
import type { DirectorDeps } from '../feature.ts';
import type { TaskContext, TaskHandler } from '../tasks/task-context.ts';
import { instanceLabel } from '../updater/instance-label.ts';
import type { CloudCheckOptions } from './cloud-check-deps.ts';
import { ProblemStore } from './problem-store.ts';
import { ProblemHandlerError } from './recreate-vm.ts';
import { applyResolution, chosenResolution, viewProblem } from './resolve-problem.ts';

export const CCK_APPLY = 'cck_apply';

export const ApplyParams = z.object({
  deployment: z.string().min(1),
  /** Problem id → resolution name, or null for the type's auto resolution. */
  resolutions: z.record(z.string(), z.string().nullable()),
});
export type ApplyParams = z.infer<typeof ApplyParams>;

/** `PUT /deployments/<d>/problems` (BOSH's jobs/cloud_check/apply_resolutions.rb): `<n> resolved`. */
export function applyResolutionsTask(
  deps: DirectorDeps,
  options: CloudCheckOptions,
): TaskHandler<ApplyParams> {
  return {
    type: CCK_APPLY,
    parseParams: (raw) => ApplyParams.parse(raw),
    async run(ctx, params) {
      const { resolved, errors } = await resolveProblems(
        deps,
        options,
        ctx,
        params.deployment,
        params.resolutions,
      );
      if (errors.length > 0) throw new ProblemHandlerError(errors.join('\n'));
      return `${resolved} resolved`;
    },
  };
}

/**
 * Applies resolutions one problem after another in a `Applying problem resolutions` stage.
 * A failed resolution leaves its problem open and is reported; the others still run.
 */
export async function resolveProblems(
  deps: DirectorDeps,
  options: CloudCheckOptions,
  ctx: TaskContext,
  deployment: string,
  resolutions: Readonly<Record<string, string | null>>,
): Promise<{ resolved: number; errors: string[] }> {
  const problems = new ProblemStore(deps.db);
  const deployments = new DeploymentStore(deps.db);
  const instances = await deployments.instances(deployment);
  const inactiveDisks = await deployments.inactiveDisks(deployment);
  const updater = updaterDeps(
    deps,
    {
      agents: options.agents,
      ...(options.agentWaitTimeoutMs !== undefined ? { agentWaitTimeoutMs: options.agentWaitTimeoutMs } : {}),
    },
    ctx,
    deployment,
  );
  const ids = Object.keys(resolutions);
  const stage = ctx.events.stage('Applying problem resolutions', { total: ids.length });
  let resolved = 0;
  const errors: string[] = [];
  for (const key of ids) {
    const id = Number(key);
    const problem = Number.isInteger(id) ? await problems.get(id) : null;
    if (problem === null || problem.deployment !== deployment) {
      errors.push(`Problem '${key}' is not a problem of deployment '${deployment}'`);
      continue;
    }
    if (problem.state !== 'open') {
      errors.push(`Problem '${key}' is not open`);
      continue;
    }
    const view = viewProblem(problem, instances, inactiveDisks);
    let name: string;
    try {
      name = chosenResolution(view, resolutions[key] ?? null);
    } catch (error) {
      errors.push((error as Error).message);
      continue;
    }
    const plan = view.resolutions.find((r) => r.name === name)?.plan ?? name;
    try {
      await stage.task(`${view.type} ${problem.id}: ${plan}`, () =>
        applyResolution(deps.db, updater, view, name),
      );
      await problems.setState(problem.id, 'resolved');
      resolved++;
      await record(deps, ctx, deployment, view.instance, view.type, name, null);
    } catch (error) {
      ctx.signal.throwIfAborted();
      const message = `Error resolving problem '${problem.id}': ${(error as Error).message}`;
      errors.push(message);
      await record(deps, ctx, deployment, view.instance, view.type, name, (error as Error).message);
    }
  }
  return { resolved, errors };
}

async function record(
  deps: DirectorDeps,
  ctx: TaskContext,
  deployment: string,
  instance: { group: string; id: string; index: number } | null,
  type: string,
  resolution: string,
  error: string | null,
): Promise<void> {
  await deps.events.record({
    action: 'resolve',
    objectType: 'problem',
    objectName: type,
    user: ctx.user,
    task: ctx.taskId,
    deployment,
    instance: instance ? `${instance.group}/${instance.id}` : null,
    context: { resolution, ...(instance ? { instance_label: instanceLabel(instance) } : {}) },
    error,
  });
}
