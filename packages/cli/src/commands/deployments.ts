import { z } from 'zod';
import type { Command } from '../command.ts';
import { listDeployments, type Deployment } from '../director-client/deployments.ts';
import { result, tableItem, text, type TableData } from '../output.ts';
import { noPositionals } from './arg-schema.ts';

/** The stock `deployments` table: one line per release, stemcell and team in their cells. */
export function deploymentsTable(deployments: readonly Deployment[]): TableData {
  const slugs = (items: readonly { name: string; version: string }[]) =>
    text(items.map((i) => `${i.name}/${i.version}`).join('\n'));
  return {
    content: 'deployments',
    header: ['Name', 'Release(s)', 'Stemcell(s)', 'Team(s)'],
    rows: deployments.map((d) => [
      text(d.name),
      slugs(d.releases),
      slugs(d.stemcells),
      text(d.teams.join('\n')),
    ]),
    sortBy: [{ column: 0, asc: true }],
  };
}

/** `refit deployments`: `GET /deployments?exclude_configs=true`. */
export const deployments: Command<Record<string, never>> = {
  name: 'deployments',
  aliases: ['ds', 'deps'],
  summary: 'List deployments',
  flags: [],
  args: z.object({ positionals: noPositionals }).transform(() => ({})),
  async run(deps, _args, signal) {
    const client = await deps.session.director();
    return result(tableItem(deploymentsTable(await listDeployments(client, signal))));
  },
};
