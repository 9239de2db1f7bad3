import { z } from 'zod';
import type { Command } from '../command.ts';
import { changeJobState, type ChangeStateOptions, type JobState } from '../director-client/deployments.ts';
import type { FlagSpec } from '../flags/flag-spec.ts';
import { parsePlanRows } from '../director-client/vm-infos.ts';
import { result, tableItem } from '../output.ts';
import { planTable } from '../ui/plan-table.ts';
import { flag, optionalPositional } from './arg-schema.ts';
import { countOrPercent, pickStrategy, strategyName } from './deploy-flags.ts';
import { requiredDeployment } from './deployment-name.ts';
import { runStartedTask } from './follow-events.ts';

/** `INSTANCE-GROUP[/INSTANCE-ID]`, or nothing for every instance. */
export const instanceSlug = optionalPositional('INSTANCE-GROUP[/INSTANCE-ID]').transform((slug, ctx) => {
  if (slug === undefined) return { group: undefined, instance: undefined };
  const [group = '', instance, ...rest] = slug.split('/');
  if (group === '' || instance === '' || rest.length > 0) {
    ctx.addIssue({
      code: 'custom',
      message: `Expected '${slug}' to be in format 'INSTANCE-GROUP[/INSTANCE-ID]'`,
    });
    return z.NEVER;
  }
  return { group, instance };
});

const InstanceStateFlags = z.object({
  'skip-drain': flag,
  fix: flag,
  'dry-run': flag,
  hard: flag,
  soft: flag,
  canaries: countOrPercent,
  'max-in-flight': countOrPercent,
  strategy: strategyName,
  'update-stemcell-strategy': strategyName,
});

/**
 * `recreate`, `restart`, `stop`, `start`: confirm, then the converging
 * `PUT /deployments/<d>/jobs/<group|*>[/<id>]?state=…` and follow the task. `state` maps the
 * parsed flags to the target state (`stop --hard` is `detached`). `recreate --dry-run` prints the
 * director's plan, as `deploy --dry-run` does.
 */
export function instanceStateCommand(spec: {
  readonly name: string;
  readonly summary: string;
  readonly flags: readonly FlagSpec[];
  readonly state: (flags: z.infer<typeof InstanceStateFlags>) => JobState;
}): Command<ChangeStateOptions> {
  return {
    name: spec.name,
    summary: spec.summary,
    usage: '[INSTANCE-GROUP[/INSTANCE-ID]]',
    flags: spec.flags,
    args: z
      .object({ positionals: instanceSlug, flags: InstanceStateFlags })
      .transform(({ positionals, flags }, ctx) => ({
        state: spec.state(flags),
        group: positionals.group,
        instance: positionals.instance,
        skipDrain: flags['skip-drain'],
        fix: flags.fix,
        dryRun: flags['dry-run'],
        canaries: flags.canaries,
        maxInFlight: flags['max-in-flight'],
        stemcellStrategy: pickStrategy(flags, ctx),
      })),
    async run(deps, args, signal) {
      const deployment = requiredDeployment(deps);
      const client = await deps.session.director();
      await deps.ui.confirm();
      const taskId = await changeJobState(client, deployment, args, signal);
      const output = await runStartedTask(deps, client, taskId, signal);
      const plan = args.dryRun ? parsePlanRows(output) : [];
      return plan.length === 0 ? result() : result(tableItem(planTable(plan)));
    },
  };
}

export const skipDrainFlag: FlagSpec = {
  name: 'skip-drain',
  kind: 'boolean',
  description: 'Skip running drain and pre-stop scripts',
};
