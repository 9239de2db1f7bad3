import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AgentClient } from '../agent-client/agent-client.ts';
import { LockTimeout } from '../errors.ts';
import type { DirectorDeps } from '../feature.ts';
import type { Hash } from '../manifests/compile-cloud-config.ts';
import { DbIpReservationStore } from '../networking/ip-reservation-store.ts';
import { planSummary } from '../planner/index.ts';
import type { TaskContext, TaskHandler } from '../tasks/task-context.ts';
import { updateDeployment } from '../updater/update-deployment.ts';
import type { Clock, UpdaterDeps } from '../updater/updater-ports.ts';
import { compilePackages } from './compile-packages.ts';
import { DeployParams, planOptions } from './deploy-params.ts';
import { DeploymentStore } from './deployment-store.ts';
import { instanceTargets } from './instance-targets.ts';
import { persistDeployment } from './persist-deployment.ts';
import { prepareDeployment, type PreparedDeployment } from './prepare-deployment.ts';
import { dryRunRows, reloadPreflight, reserveRootfs, type ReloadPreflight } from './reload-preflight.ts';
import { reloadTarget } from './reload-target.ts';

export const UPDATE_DEPLOYMENT = 'update_deployment';

/** What deployment tasks need beyond DirectorDeps. */
export interface DeploymentTaskDeps {
  readonly agents: () => AgentClient;
  /** `env.bosh` for new VMs (mbus, blobstores) when the CPI does not supply them. */
  readonly agentEnv?: Hash;
  readonly ruby?: string;
  readonly clock?: Clock;
  readonly agentWaitTimeoutMs?: number;
}

export const realClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) => sleep(ms, undefined, { signal }),
};

export function lockRefusal(
  deployment: string,
  held: { taskId: number; description: string },
): InstanceType<typeof LockTimeout> {
  return new LockTimeout(
    `Failed to acquire lock for lock:deployment:${deployment} uid: ${randomUUID()}. Locking task id is ${held.taskId}, description: '${held.description}'`,
  );
}

/** The prepared deployment's packages compiled (or found) for one task, on its compilation VMs. */
export function compileTaskPackages(
  deps: DirectorDeps,
  extra: DeploymentTaskDeps,
  ctx: TaskContext,
  prepared: PreparedDeployment,
): ReturnType<typeof compilePackages> {
  return compilePackages(
    {
      db: deps.db,
      cloud: deps.cloud,
      agents: extra.agents(),
      events: ctx.events,
      cpiLog: ctx.cpi,
      signal: ctx.signal,
      agentEnv: extra.agentEnv ?? {},
      directorName: deps.directorName,
      ...(extra.agentWaitTimeoutMs !== undefined ? { agentWaitTimeoutMs: extra.agentWaitTimeoutMs } : {}),
    },
    prepared,
  );
}

/** The updater's ports for one task. */
export function updaterDeps(
  deps: DirectorDeps,
  extra: DeploymentTaskDeps,
  ctx: TaskContext,
  deployment: string,
): UpdaterDeps {
  return {
    deployment,
    cloud: deps.cloud,
    agents: extra.agents(),
    store: new DeploymentStore(deps.db).stateStore(deployment),
    clock: extra.clock ?? realClock,
    events: ctx.events,
    cpiLog: ctx.cpi,
    signal: ctx.signal,
    newAgentId: randomUUID,
    agentEnv: extra.agentEnv ?? {},
    ...(extra.agentWaitTimeoutMs !== undefined ? { agentWaitTimeoutMs: extra.agentWaitTimeoutMs } : {}),
    record: async (event) => {
      await deps.events.record({
        action: event.action,
        objectType: event.objectType,
        objectName: event.objectName,
        user: ctx.user,
        task: ctx.taskId,
        deployment,
        instance: event.instance,
        ...(event.context ? { context: event.context } : {}),
      });
    },
  };
}

/**
 * `update_deployment` (BOSH's jobs/update_deployment.rb), stages as reference §4.3: Preparing
 * deployment → package compilation → the updater's stages → the manifest and instance state
 * persisted → post-deploy. Result `/deployments/<name>`.
 */
export function deployTask(deps: DirectorDeps, extra: DeploymentTaskDeps): TaskHandler<DeployParams> {
  return {
    type: UPDATE_DEPLOYMENT,
    parseParams: (raw) => DeployParams.parse(raw),
    async run(ctx, params) {
      if (params.lockHeld !== null) throw lockRefusal(params.deployment, params.lockHeld);
      const store = new DeploymentStore(deps.db);
      const existed = (await store.get(params.deployment))?.manifest != null;
      const action = existed ? 'update' : 'create';
      try {
        const result = await deploy(deps, extra, ctx, params);
        if (!params.dryRun) await recordDeployment(deps, ctx, params.deployment, action, null);
        return result;
      } catch (error) {
        if (!params.dryRun)
          await recordDeployment(deps, ctx, params.deployment, action, (error as Error).message);
        throw error;
      }
    },
  };
}

async function recordDeployment(
  deps: DirectorDeps,
  ctx: TaskContext,
  deployment: string,
  action: string,
  error: string | null,
): Promise<void> {
  await deps.events.record({
    action,
    objectType: 'deployment',
    objectName: deployment,
    user: ctx.user,
    task: ctx.taskId,
    deployment,
    error,
  });
}

async function deploy(
  deps: DirectorDeps,
  extra: DeploymentTaskDeps,
  ctx: TaskContext,
  params: DeployParams,
): Promise<string> {
  const preparing = ctx.events.stage('Preparing deployment', { total: 1 });
  const prepared = await preparing.task('Preparing deployment', () =>
    prepareDeployment({
      db: deps.db,
      blobstore: deps.blobstore,
      cpiName: deps.cloud.name,
      manifestText: params.manifest,
      options: planOptions(params.options),
      signal: ctx.signal,
      agents: extra.agents(),
      ...(extra.ruby ? { ruby: extra.ruby } : {}),
    }),
  );
  const { plan, compiled } = prepared;
  const reload = await reloadPreflight(deps.db, plan);
  // A reload only moves forward: the event log (of a dry run too) says which instances would
  // go down and are recreated instead.
  for (const i of reload.plan.instanceGroups.flatMap((g) => g.instances)) {
    if (i.stemcellStrategy?.reloadRefused?.kind === 'downgrade')
      ctx.events.warning(`${i.group}/${i.id} (${i.index}): ${i.stemcellStrategy.reason}`);
  }
  if (params.dryRun) {
    for (const row of dryRunRows(reload.plan, planSummary(reload.plan), reload.rootfs))
      ctx.result.write(`${JSON.stringify(row)}\n`);
    return `/deployments/${compiled.name}`;
  }
  const release = await reserveRootfs(
    deps.db,
    [...reload.rootfs.values()].map((r) => r.id),
    `task:${ctx.taskId}`,
  );
  try {
    return await deployPrepared(deps, extra, ctx, params, prepared, reload);
  } finally {
    await release();
  }
}

async function deployPrepared(
  deps: DirectorDeps,
  extra: DeploymentTaskDeps,
  ctx: TaskContext,
  params: DeployParams,
  prepared: PreparedDeployment,
  reload: ReloadPreflight,
): Promise<string> {
  const { plan, compiled } = prepared;

  const store = new DeploymentStore(deps.db);
  await store.ensure(compiled.name);
  // Addresses first: an IP another deployment took refuses the deploy before any VM is touched.
  await new DbIpReservationStore(deps.db).apply(plan.ipReservations);
  for (const group of plan.instanceGroups) {
    for (const instance of group.instances) {
      if (instance.existing === null) await store.createInstance(compiled.name, instance);
      else await store.placeInstance(instance);
    }
  }

  const packages = await compileTaskPackages(deps, extra, ctx, prepared);
  const targets = instanceTargets(prepared, packages);
  for (const [id, target] of targets) {
    targets.set(id, { ...target, ...reloadTarget(reload, target.plan, compiled.instanceGroups, ctx) });
  }
  const updater = updaterDeps(deps, extra, ctx, compiled.name);
  await updateDeployment(updater, plan, targets);
  await persistDeployment(deps.db, prepared, params.manifest);
  await postDeploy(updater, compiled.name, deps);
  return `/deployments/${compiled.name}`;
}

/** `run_script post-deploy` on every instance with a running VM (reference §4.3 step 7). */
async function postDeploy(updater: UpdaterDeps, deployment: string, deps: DirectorDeps): Promise<void> {
  const instances = await new DeploymentStore(deps.db).instances(deployment);
  await Promise.all(
    instances
      .filter((i) => i.vm !== null && i.state === 'started')
      .map((i) =>
        updater.agents.call(i.vm?.agentId ?? '', 'run_script', ['post-deploy', { env: {} }], {
          signal: updater.signal,
        }),
      ),
  );
}
