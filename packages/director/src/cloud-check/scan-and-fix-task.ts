import { z } from 'zod';
import { DeploymentStore } from '../deployments/deployment-store.ts';
import type { DirectorDeps } from '../feature.ts';
import type { TaskHandler } from '../tasks/task-context.ts';
import { DirectorError } from '../errors.ts';
import { deploymentLocked, resurrectionPaused, type CloudCheckOptions } from './cloud-check-deps.ts';
import { resolveProblems } from './apply-resolutions-task.ts';
import { ProblemHandlerError } from './recreate-vm.ts';
import { ProblemStore } from './problem-store.ts';
import { scanDeployment, selectInstances, type InstanceSelector } from './scan-deployment.ts';

export const CCK_SCAN_AND_FIX = 'cck_scan_and_fix';

export const ScanAndFixParams = z.object({
  deployment: z.string().min(1),
  jobs: z.record(z.string(), z.array(z.union([z.string(), z.number()]))),
  locked: z.boolean(),
});
export type ScanAndFixParams = z.infer<typeof ScanAndFixParams>;

/** Resurrection is paused director-wide (`bosh update-resurrection off`). */
export class ResurrectionPaused extends DirectorError {
  static readonly code = 470020;
  constructor(message: string) {
    super(470020, 400, message);
  }
}

/**
 * `PUT /deployments/<d>/scan_and_fix` (BOSH's jobs/cloud_check/scan_and_fix.rb), the health
 * monitor's resurrection: scans only the named instances, resolves `missing_vm` and
 * `unresponsive_agent` with `recreate_vm`, leaves stateful instances alone unless
 * `autoFixStatefulNodes`, then runs `post-deploy` if anything was fixed.
 */
export function scanAndFixTask(
  deps: DirectorDeps,
  options: CloudCheckOptions,
): TaskHandler<ScanAndFixParams> {
  return {
    type: CCK_SCAN_AND_FIX,
    parseParams: (raw) => ScanAndFixParams.parse(raw),
    async run(ctx, params) {
      if (params.locked) throw deploymentLocked();
      if (await resurrectionPaused(deps.db)) {
        throw new ResurrectionPaused('Resurrection is paused for the director: not scanning and fixing');
      }
      const store = new DeploymentStore(deps.db);
      const selectors: InstanceSelector[] = Object.entries(params.jobs).flatMap(([group, ids]) =>
        ids.map((id) => ({ group, idOrIndex: String(id) })),
      );
      const all = await store.instances(params.deployment);
      const chosen = selectInstances(all, selectors).filter(
        (i) => options.autoFixStatefulNodes === true || i.disk === null,
      );
      if (chosen.length === 0) return 'scan and fix complete';
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
        chosen.map((i) => ({ group: i.group, idOrIndex: i.id })),
      );
      const ids = new Set(chosen.map((i) => i.id));
      const open = (await new ProblemStore(deps.db).open(params.deployment)).filter(
        (p) =>
          (p.type === 'missing_vm' || p.type === 'unresponsive_agent') &&
          p.instanceId !== null &&
          ids.has(p.instanceId),
      );
      if (open.length === 0) return 'scan and fix complete';
      const { resolved, errors } = await resolveProblems(
        deps,
        options,
        ctx,
        params.deployment,
        Object.fromEntries(open.map((p) => [String(p.id), 'recreate_vm'])),
      );
      if (resolved > 0) {
        const agents = options.agents();
        const running = (await store.instances(params.deployment)).filter(
          (i) => i.vm !== null && i.state === 'started',
        );
        // Best effort: an instance that is itself unhealthy must not fail the resurrection.
        const ran = await Promise.allSettled(
          running.map((i) =>
            agents.call(i.vm?.agentId ?? '', 'run_script', ['post-deploy', { env: {} }], {
              signal: ctx.signal,
            }),
          ),
        );
        ran.forEach((r, n) => {
          if (r.status === 'rejected')
            ctx.events.warning(
              `post-deploy on '${running[n]?.group}/${running[n]?.id}' failed: ${(r.reason as Error).message}`,
            );
        });
      }
      if (errors.length > 0) throw new ProblemHandlerError(errors.join('\n'));
      return 'scan and fix complete';
    },
  };
}
