import { z } from 'zod';
import type { Command, CommandDeps } from '../command.ts';
import type { DirectorClient } from '../director-client/director-client.ts';
import { CliError, UsageError } from '../errors.ts';
import { line, result, tableItem, text, type TableData } from '../output.ts';
import { flag, noPositionals, optionalString } from './arg-schema.ts';
import { requiredDeployment } from './deployment-name.ts';
import { runStartedTask } from './follow-events.ts';

const Problem = z.object({
  id: z.number(),
  type: z.string(),
  description: z.string(),
  resolutions: z.array(z.object({ name: z.string(), plan: z.string() })),
  instance_group: z.string().optional(),
});
type Problem = z.infer<typeof Problem>;

/** Problems were found under `--report`. */
export class ProblemsFound extends CliError {
  constructor(count: number) {
    super('problems', `${count} problem(s) found`);
  }
}

export function problemsTable(problems: readonly Problem[]): TableData {
  return {
    content: 'problems',
    header: ['#', 'Type', 'Description'],
    rows: problems.map((p) => [
      { text: String(p.id), sortKey: { kind: 'number', value: p.id } },
      text(p.type),
      text(p.description),
    ]),
    sortBy: [{ column: 0, asc: true }],
  };
}

interface CckArgs {
  readonly auto: boolean;
  readonly report: boolean;
  readonly resolutions: readonly string[];
}

/**
 * `refit -d DEP cck [--auto | --resolution NAME | --report]` (reference §1.11): scans
 * (`POST /deployments/<d>/scans`), lists the problems as `# | Type | Description`, then sends
 * the resolutions: `null` each under `--auto`, under `--resolution` (repeatable) the first named
 * one the problem offers (or `ignore`),
 * else the operator's choice for each problem. `--report` stops after the list and fails when
 * there are problems.
 */
export const cck: Command<CckArgs> = {
  name: 'cloud-check',
  aliases: ['cck'],
  summary: 'Cloud consistency check and interactive repair',
  flags: [
    { name: 'auto', short: 'a', kind: 'boolean', description: 'Resolve problems automatically' },
    {
      name: 'resolution',
      kind: 'strings',
      valueName: 'RESOLUTION',
      description: 'Apply resolution of given type (repeatable; comma-separated also accepted)',
    },
    {
      name: 'report',
      short: 'r',
      kind: 'boolean',
      description: 'Only generate report; don’t attempt to resolve problems',
    },
  ],
  args: z
    .object({
      positionals: noPositionals,
      flags: z.object({ auto: flag, report: flag, resolution: optionalString }),
    })
    .transform(({ flags }) => ({
      auto: flags.auto,
      report: flags.report,
      resolutions: (flags.resolution ?? '').split(',').filter((r) => r !== ''),
    })),
  async run(deps, args, signal) {
    if (args.auto && args.resolutions.length > 0)
      throw new UsageError('Only one of --auto and --resolution can be given');
    const deployment = requiredDeployment(deps);
    const client = await deps.session.director();
    const path = `/deployments/${encodeURIComponent(deployment)}`;
    const scanTask = await client.startTask('POST', `${path}/scans`, signal, jsonBody(''));
    await runStartedTask(deps, client, scanTask, signal);
    const problems = await client.json(`${path}/problems`, z.array(Problem), signal);
    deps.ui.show(tableItem(problemsTable(problems)));
    if (problems.length === 0) return result();
    if (args.report) throw new ProblemsFound(problems.length);
    const chosen: Record<string, string | null> = {};
    for (const problem of problems) {
      chosen[String(problem.id)] = args.auto
        ? null
        : args.resolutions.length > 0
          ? pickResolution(problem, args.resolutions)
          : await askResolution(deps, problem);
    }
    await deps.ui.confirm();
    await applyResolutions(client, deps, path, chosen, signal);
    return result();
  },
};

/**
 * `--resolution` given once or several times: for each problem, the first of the given names (in
 * the order given) that the problem offers; `ignore` when it offers none of them.
 */
export function pickResolution(problem: Problem, names: readonly string[]): string {
  const offered = new Set(problem.resolutions.map((r) => r.name));
  return names.find((name) => offered.has(name)) ?? 'ignore';
}

const jsonBody = (data: string) => ({ kind: 'bytes' as const, contentType: 'application/json', data });

async function askResolution(deps: CommandDeps, problem: Problem): Promise<string> {
  deps.ui.show(line(`Problem ${problem.id}: ${problem.description}`));
  problem.resolutions.forEach((r, n) => deps.ui.show(line(`  ${n + 1}. ${r.plan}`)));
  for (let attempt = 0; attempt < 5; attempt++) {
    const answer = (
      await deps.ui.askText(`Please choose a resolution [1 - ${problem.resolutions.length}]`)
    ).trim();
    const picked = problem.resolutions[Number(answer) - 1];
    if (/^\d+$/.test(answer) && picked !== undefined) return picked.name;
  }
  throw new UsageError(`No resolution chosen for problem ${problem.id}`);
}

async function applyResolutions(
  client: DirectorClient,
  deps: CommandDeps,
  path: string,
  resolutions: Record<string, string | null>,
  signal: AbortSignal,
): Promise<void> {
  const body = JSON.stringify({ resolutions });
  const taskId = await client.startTask('PUT', `${path}/problems`, signal, jsonBody(body));
  await runStartedTask(deps, client, taskId, signal);
}
