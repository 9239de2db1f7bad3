import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import type { Command } from '../command.ts';
import {
  deploy as postDeployment,
  diffDeployment,
  type DeployOptions,
} from '../director-client/deployments.ts';
import { parsePlanRows } from '../director-client/vm-infos.ts';
import { CliError } from '../errors.ts';
import { diffItem, result, tableItem } from '../output.ts';
import { planTable } from '../ui/plan-table.ts';
import { flag, onePositional } from './arg-schema.ts';
import {
  allowDowngradeFlag,
  canariesFlag,
  countOrPercent,
  maxInFlightFlag,
  pickStrategy,
  skipDrainArg,
  strategyFlags,
  strategyName,
} from './deploy-flags.ts';
import { requiredDeployment } from './deployment-name.ts';
import { runStartedTask } from './follow-events.ts';
import { uploadManifestReleases } from './manifest-releases.ts';

interface DeployArgs {
  readonly path: string;
  readonly noRedact: boolean;
  readonly options: Omit<DeployOptions, 'context'>;
}

/** The manifest's `name`, checked against `-d` before anything is sent, as the stock CLI does. */
function manifestName(yaml: string, path: string): string {
  let document: unknown;
  try {
    document = parseYaml(yaml);
  } catch (error) {
    throw new CliError('manifest', `Parsing manifest '${path}': ${(error as Error).message}`, {
      cause: error,
    });
  }
  const name =
    typeof document === 'object' && document !== null ? (document as { name?: unknown }).name : undefined;
  return typeof name === 'string' ? name : '';
}

/**
 * `refit -d DEP deploy MANIFEST`: checks the manifest names DEP, uploads the releases it names
 * by `url` that the director lacks, shows the director's diff
 * (`POST /deployments/<d>/diff`), confirms, posts the manifest (`POST /deployments?…` with the
 * diff's context) and follows the task. `--dry-run` shows the plan the director computed (per
 * instance: action, strategy, reason, bytes to download) without touching any VM.
 */
export const deploy: Command<DeployArgs> = {
  name: 'deploy',
  aliases: ['d'],
  summary: 'Update deployment',
  usage: 'PATH',
  flags: [
    { name: 'no-redact', kind: 'boolean', description: 'Show non-redacted manifest diff' },
    { name: 'recreate', kind: 'boolean', description: 'Recreate all VMs in deployment' },
    {
      name: 'recreate-persistent-disks',
      kind: 'boolean',
      description: 'Recreate all persistent disks in deployment',
    },
    {
      name: 'fix',
      kind: 'boolean',
      description: 'Recreate an instance with an unresponsive agent instead of erroring',
    },
    {
      name: 'skip-drain',
      kind: 'optional-strings',
      optionalText: '*',
      valueName: '[INSTANCE-GROUP[/INSTANCE-ID]]',
      description: 'Skip running drain and pre-stop scripts for specific instance groups',
    },
    canariesFlag,
    maxInFlightFlag,
    { name: 'dry-run', kind: 'boolean', description: 'Renders job templates without altering deployment' },
    ...strategyFlags,
    allowDowngradeFlag,
  ],
  args: z
    .object({
      positionals: onePositional('PATH'),
      flags: z.object({
        'no-redact': flag,
        recreate: flag,
        'recreate-persistent-disks': flag,
        fix: flag,
        'skip-drain': skipDrainArg,
        canaries: countOrPercent,
        'max-in-flight': countOrPercent,
        'dry-run': flag,
        strategy: strategyName,
        'update-stemcell-strategy': strategyName,
        'allow-downgrade': flag,
      }),
    })
    .transform(({ positionals, flags }, ctx) => ({
      path: positionals,
      noRedact: flags['no-redact'],
      options: {
        recreate: flags.recreate,
        recreatePersistentDisks: flags['recreate-persistent-disks'],
        fix: flags.fix,
        skipDrain: flags['skip-drain'],
        canaries: flags.canaries,
        maxInFlight: flags['max-in-flight'],
        dryRun: flags['dry-run'],
        stemcellStrategy: pickStrategy(flags, ctx),
        allowDowngrade: flags['allow-downgrade'],
      },
    })),
  async run(deps, args, signal) {
    const deployment = requiredDeployment(deps);
    let yaml: string;
    try {
      yaml = await readFile(args.path, 'utf8');
    } catch (error) {
      throw new CliError('file', `Reading manifest '${args.path}': ${(error as Error).message}`, {
        cause: error,
      });
    }
    const name = manifestName(yaml, args.path);
    if (name !== deployment) {
      throw new CliError(
        'manifest',
        `Expected manifest to specify deployment name '${deployment}' but was '${name}'`,
      );
    }
    const client = await deps.session.director();
    await uploadManifestReleases(deps, client, yaml, signal);
    const diff = await diffDeployment(client, deployment, yaml, !args.noRedact, signal);
    if (diff.lines.length > 0) deps.ui.show(diffItem(diff.lines));
    await deps.ui.confirm();
    const taskId = await postDeployment(client, yaml, { ...args.options, context: diff.context }, signal);
    const output = await runStartedTask(deps, client, taskId, signal);
    if (!args.options.dryRun) return result();
    const rows = parsePlanRows(output);
    return rows.length === 0 ? result() : result(tableItem(planTable(rows)));
  },
};
