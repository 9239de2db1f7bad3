import { z } from 'zod';
import type { ErrandRunResultLine } from '@refit/protocol';
import type { Command } from '../command.ts';
import { parseErrandResults, startErrandRun } from '../director-client/errands.ts';
import { CliError } from '../errors.ts';
import { int, result, tableItem, text, warning, type TableData } from '../output.ts';
import { flag, onePositional, optionalString } from './arg-schema.ts';
import { requiredDeployment } from './deployment-name.ts';
import { runStartedTask } from './follow-events.ts';

interface RunErrandArgs {
  readonly name: string;
  readonly keepAlive: boolean;
  readonly whenChanged: boolean;
  readonly instances: readonly { readonly group: string; readonly id: string }[];
  readonly downloadLogs: boolean;
}

/** An errand exited non-zero (the stock CLI's wording; above 128 it was killed by a signal). */
export class ErrandFailed extends CliError {
  constructor(name: string, exitCode: number) {
    super(
      'errand',
      exitCode > 128
        ? `Errand '${name}' was canceled (exit code ${exitCode})`
        : `Errand '${name}' completed with error (exit code ${exitCode})`,
    );
  }
}

/** The stock CLI's transposed table: one `Instance / Exit Code / Stdout / Stderr` block per run. */
export function errandResultsTable(results: readonly ErrandRunResultLine[]): TableData {
  return {
    content: 'errand(s)',
    header: ['Instance', 'Exit Code', 'Stdout', 'Stderr'],
    rows: results.map((r) => [
      text(`${r.instance.group}/${r.instance.id}`),
      int(r.exit_code),
      text(r.stdout),
      text(r.stderr),
    ]),
    sortBy: [{ column: 0, asc: true }],
    transpose: true,
  };
}

/** `GROUP` or `GROUP/ID` (the stock CLI's InstanceGroupOrInstanceSlug). */
function instanceSlug(slug: string): { group: string; id: string } | undefined {
  const [group = '', id = '', ...rest] = slug.split('/');
  if (group === '' || rest.length > 0 || (slug.includes('/') && id === '')) return undefined;
  return { group, id };
}

/**
 * `refit -d DEP run-errand NAME [--keep-alive] [--when-changed] [--instance GROUP[/ID]]...`:
 * starts a `run errand NAME` task, follows it, prints each run's exit code and output, and fails
 * when any run exited non-zero.
 */
export const runErrand: Command<RunErrandArgs> = {
  name: 'run-errand',
  summary: 'Run errand',
  usage: 'NAME',
  flags: [
    {
      name: 'instance',
      kind: 'strings',
      valueName: 'INSTANCE-GROUP[/INSTANCE-ID]',
      description: 'Instance or group the errand should run on (must specify errand by release job name)',
    },
    {
      name: 'keep-alive',
      kind: 'boolean',
      description: 'Use existing VM to run an errand and keep it after completion',
    },
    {
      name: 'when-changed',
      kind: 'boolean',
      description:
        'Run errand only if errand configuration has changed or if the previous run was unsuccessful',
    },
    { name: 'download-logs', kind: 'boolean', description: 'Download logs' },
    {
      name: 'logs-dir',
      kind: 'string',
      valueName: 'DIR',
      description: 'Destination directory for logs (default: .)',
    },
  ],
  args: z
    .object({
      positionals: onePositional('NAME'),
      flags: z.object({
        instance: optionalString,
        'keep-alive': flag,
        'when-changed': flag,
        'download-logs': flag,
        'logs-dir': optionalString,
      }),
    })
    .transform(({ positionals, flags }, ctx) => {
      const instances = [];
      for (const slug of (flags.instance ?? '').split(',').filter((s) => s !== '')) {
        const parsed = instanceSlug(slug);
        if (parsed === undefined) {
          ctx.addIssue({
            code: 'custom',
            message: `Expected instance '${slug}' to be in format 'name' or 'name/id'`,
          });
          return z.NEVER;
        }
        instances.push(parsed);
      }
      return {
        name: positionals,
        keepAlive: flags['keep-alive'],
        whenChanged: flags['when-changed'],
        instances,
        downloadLogs: flags['download-logs'],
      };
    }),
  async run(deps, args, signal) {
    const client = await deps.session.director();
    const deployment = requiredDeployment(deps);
    const taskId = await startErrandRun(
      client,
      deployment,
      args.name,
      { keep_alive: args.keepAlive, when_changed: args.whenChanged, instances: [...args.instances] },
      signal,
    );
    const results = parseErrandResults(await runStartedTask(deps, client, taskId, signal));
    deps.ui.show(tableItem(errandResultsTable(results)));
    if (args.downloadLogs)
      deps.ui.show(
        warning('Errand logs are not collected by this director: --download-logs fetched nothing'),
      );
    const failed = results.find((r) => r.exit_code !== 0);
    if (failed !== undefined) throw new ErrandFailed(args.name, failed.exit_code);
    return result();
  },
};
