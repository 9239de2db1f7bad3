import { z } from 'zod';
import { readJson } from '../api/body.ts';
import type { Route, RouteRequest } from '../api/route.ts';
import type { Db } from '../db/db.ts';
import { DeploymentStore } from '../deployments/deployment-store.ts';
import { DeploymentNotFound } from '../errors.ts';
import type { TaskQueue } from '../tasks/task-context.ts';
import { CCK_APPLY } from './apply-resolutions-task.ts';
import { deploymentLock, deploymentLockHolder } from './cloud-check-deps.ts';
import { ProblemStore } from './problem-store.ts';
import { viewProblem } from './resolve-problem.ts';
import { CCK_SCAN_AND_FIX } from './scan-and-fix-task.ts';
import { CCK_SCAN } from './scan-task.ts';

interface RouteDeps {
  readonly db: Db;
  readonly tasks: TaskQueue;
}

const ResolutionsBody = z.object({
  resolutions: z.record(z.string(), z.string().nullable()),
  max_in_flight_overrides: z.record(z.string(), z.union([z.string(), z.number()])).optional(),
});
const ScanAndFixBody = z.object({ jobs: z.record(z.string(), z.array(z.union([z.string(), z.number()]))) });

async function existing(db: Db, name: string): Promise<void> {
  if ((await new DeploymentStore(db).get(name)) === null)
    throw new DeploymentNotFound(`Deployment '${name}' doesn't exist`);
}

/** Reference §1.11: scans, problems, resolutions and the health monitor's scan_and_fix. */
export function cloudCheckRoutes(deps: RouteDeps): Route[] {
  /** Scans take the lock with timeout 0: a held lock makes the task fail at once, lockless. */
  const enqueueLocked = async (
    request: RouteRequest,
    type: string,
    description: string,
    params: Record<string, unknown>,
  ) => {
    const name = request.params.deployment ?? '';
    await existing(deps.db, name);
    const held = await deploymentLockHolder(deps.db, name);
    const taskId = await deps.tasks.enqueue({
      type,
      description,
      user: request.user,
      deployment: name,
      params: { deployment: name, ...params, locked: held !== null },
      locks: held !== null ? [] : [deploymentLock(name)],
    });
    return { kind: 'task', taskId } as const;
  };

  return [
    {
      method: 'POST',
      path: '/deployments/:deployment/scans',
      handle: (request) => enqueueLocked(request, CCK_SCAN, 'scan cloud', {}),
    },
    {
      method: 'GET',
      path: '/deployments/:deployment/problems',
      async handle(request) {
        const name = request.params.deployment ?? '';
        await existing(deps.db, name);
        const deployments = new DeploymentStore(deps.db);
        const instances = await deployments.instances(name);
        const inactiveDisks = await deployments.inactiveDisks(name);
        const problems = await new ProblemStore(deps.db).open(name);
        return {
          kind: 'json',
          body: problems.map((problem) => {
            const view = viewProblem(problem, instances, inactiveDisks);
            return {
              id: view.id,
              type: view.type,
              data: view.data,
              description: view.description,
              resolutions: view.resolutions.map((r) => ({ name: r.name, plan: r.plan })),
              instance_group: view.instanceGroup,
            };
          }),
        };
      },
    },
    {
      method: 'PUT',
      path: '/deployments/:deployment/problems',
      async handle(request) {
        const name = request.params.deployment ?? '';
        const body = await readJson(request, ResolutionsBody);
        await existing(deps.db, name);
        const taskId = await deps.tasks.enqueue({
          type: CCK_APPLY,
          description: 'apply resolutions',
          user: request.user,
          deployment: name,
          params: { deployment: name, resolutions: body.resolutions },
          locks: [deploymentLock(name)],
        });
        return { kind: 'task', taskId };
      },
    },
    {
      method: 'PUT',
      path: '/deployments/:deployment/scan_and_fix',
      async handle(request) {
        const body = await readJson(request, ScanAndFixBody);
        return enqueueLocked(request, CCK_SCAN_AND_FIX, 'scan and fix', { jobs: body.jobs });
      },
    },
  ];
}
