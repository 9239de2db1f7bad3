import type { DeploymentTaskDeps } from '../deployments/deploy-task.ts';
import type { Feature } from '../feature.ts';
import { errandRunsMigration } from './020-errand-runs.ts';
import { errandRoutes } from './errand-routes.ts';
import { runErrandTask } from './run-errand-task.ts';

export { errandRunsMigration } from './020-errand-runs.ts';

/**
 * BOSH errands: `GET /deployments/<d>/errands` and `run errand NAME` tasks (colocated errand
 * jobs run in place; errand instance groups on their VMs). Owns migration 020 (`errand_runs`);
 * list it after the deployments and releases features.
 */
export function errandsFeature(extra: DeploymentTaskDeps): Feature {
  return {
    name: 'errands',
    migrations: [errandRunsMigration],
    routes: (deps) => errandRoutes(deps.db, deps.tasks),
    taskHandlers: (deps) => [runErrandTask(deps, extra)],
  };
}
