import type { Feature } from '../feature.ts';
import { resurrectionRoutes } from '../resurrection/resurrection-route.ts';
import { cloudCheckMigration } from './012-cloud-check.ts';
import { applyResolutionsTask } from './apply-resolutions-task.ts';
import type { CloudCheckOptions } from './cloud-check-deps.ts';
import { cloudCheckRoutes } from './cloud-check-routes.ts';
import { scanAndFixTask } from './scan-and-fix-task.ts';
import { scanTask } from './scan-task.ts';

export type { CloudCheckOptions } from './cloud-check-deps.ts';

/**
 * Cloud check (`bosh cck`, reference §1.11, §4.8) and the global resurrection switch: scans,
 * problems and their resolutions, and the health monitor's `scan_and_fix`. Needs the
 * deployments feature's tables (listed after it).
 */
export function cloudCheckFeature(options: CloudCheckOptions): Feature {
  return {
    name: 'cloud-check',
    migrations: [cloudCheckMigration],
    routes: (deps) => [...cloudCheckRoutes(deps), ...resurrectionRoutes(deps.db)],
    taskHandlers: (deps) => [
      scanTask(deps, options),
      applyResolutionsTask(deps, options),
      scanAndFixTask(deps, options),
    ],
  };
}
