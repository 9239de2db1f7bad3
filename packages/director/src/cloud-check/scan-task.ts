import { z } from 'zod';
import type { DirectorDeps } from '../feature.ts';
import type { TaskHandler } from '../tasks/task-context.ts';
import { deploymentLocked, type CloudCheckOptions } from './cloud-check-deps.ts';
import { scanDeployment } from './scan-deployment.ts';

export const CCK_SCAN = 'cck_scan';

export const ScanParams = z.object({ deployment: z.string().min(1), locked: z.boolean() });
export type ScanParams = z.infer<typeof ScanParams>;

/** `POST /deployments/<d>/scans` (BOSH's jobs/cloud_check/scan.rb): result `scan complete`. */
export function scanTask(deps: DirectorDeps, options: CloudCheckOptions): TaskHandler<ScanParams> {
  return {
    type: CCK_SCAN,
    parseParams: (raw) => ScanParams.parse(raw),
    async run(ctx, params) {
      if (params.locked) throw deploymentLocked();
      await scanDeployment(
        {
          db: deps.db,
          cloud: deps.cloud,
          agents: options.agents(),
          events: ctx.events,
          cpiLog: ctx.cpi,
          signal: ctx.signal,
          ...(options.agentTimeoutMs !== undefined ? { agentTimeoutMs: options.agentTimeoutMs } : {}),
        },
        params.deployment,
        null,
      );
      return 'scan complete';
    },
  };
}
