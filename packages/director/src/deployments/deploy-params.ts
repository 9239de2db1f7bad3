import { z } from 'zod';
import { StemcellStrategy } from '../manifests/update-config.ts';
import type { PlanOptions } from '../planner/index.ts';

const Amount = z.union([z.number().int().nonnegative(), z.string().regex(/^\d+%?$/)]);

/** What `POST /deployments` and `PUT /deployments/<d>/jobs/…` hand the deploy task. */
export const DeployParams = z.object({
  deployment: z.string().min(1),
  manifest: z.string(),
  dryRun: z.boolean().default(false),
  options: z
    .object({
      recreate: z.boolean().optional(),
      recreateVmsCreatedBefore: z.string().optional(),
      recreatePersistentDisks: z.boolean().optional(),
      fix: z.boolean().optional(),
      skipDrain: z.union([z.boolean(), z.array(z.string())]).optional(),
      canaries: Amount.optional(),
      maxInFlight: Amount.optional(),
      stemcellStrategy: z.enum([StemcellStrategy.recreate, StemcellStrategy.reload]).optional(),
      allowDowngrade: z.boolean().optional(),
      instanceStateOverrides: z
        .array(
          z.object({
            group: z.string(),
            instance: z.string().optional(),
            state: z.enum(['started', 'stopped', 'detached', 'restart', 'recreate']),
          }),
        )
        .optional(),
    })
    .default({}),
  /** Set by the route when another task held the deployment lock: the task fails at once. */
  lockHeld: z.object({ taskId: z.number(), description: z.string() }).nullable().default(null),
});
export type DeployParams = z.infer<typeof DeployParams>;

/** The params' options as the planner takes them (optional keys left out, not undefined). */
export function planOptions(options: DeployParams['options']): PlanOptions {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(options)) if (value !== undefined) out[key] = value;
  return out;
}
