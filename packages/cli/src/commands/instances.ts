import { z } from 'zod';
import type { Command } from '../command.ts';
import { isRunning } from '../director-client/vm-infos.ts';
import { result, tableItem } from '../output.ts';
import { instanceTable } from '../ui/instance-table.ts';
import { flag, noPositionals } from './arg-schema.ts';
import { vmInfosByDeployment } from './vm-listing.ts';

interface InstancesArgs {
  readonly details: boolean;
  readonly vitals: boolean;
  readonly processes: boolean;
  readonly failing: boolean;
}

/**
 * `refit [-d DEP] instances [--details] [--vitals] [--ps] [--failing]`: Instance, Process State,
 * AZ, IPs, Deployment; `--details` adds the stock detail columns plus Refit's Stemcell (the
 * version the VM booted) and Root Digest.
 */
export const instances: Command<InstancesArgs> = {
  name: 'instances',
  aliases: ['is'],
  summary: 'List all instances in a deployment',
  flags: [
    {
      name: 'details',
      short: 'i',
      kind: 'boolean',
      description: 'Show details including VM CID, persistent disk CID, stemcell, root digest, etc.',
    },
    { name: 'vitals', kind: 'boolean', description: 'Show vitals' },
    { name: 'ps', short: 'p', kind: 'boolean', description: 'Show processes' },
    { name: 'failing', short: 'f', kind: 'boolean', description: 'Only show failing instances' },
  ],
  args: z
    .object({
      positionals: noPositionals,
      flags: z.object({ details: flag, vitals: flag, ps: flag, failing: flag }),
    })
    .transform(({ flags }) => ({
      details: flags.details,
      vitals: flags.vitals,
      processes: flags.ps,
      failing: flags.failing,
    })),
  async run(deps, args, signal) {
    const client = await deps.session.director();
    const listed = await vmInfosByDeployment(deps, client, 'instances', signal);
    const many = deps.globals.deployment === undefined;
    return result(
      ...listed.map(({ deployment, infos }) => {
        const shown = args.failing
          ? infos
              .filter((i) => !isRunning(i))
              .map((i) => ({ ...i, processes: i.processes.filter((p) => p.state !== 'running') }))
          : infos;
        return tableItem(
          instanceTable(shown, {
            content: 'instances',
            ...(many ? { title: `Deployment '${deployment}'` } : {}),
            vmDetails: false,
            details: args.details,
            processes: args.processes,
            vitals: args.vitals,
          }),
        );
      }),
    );
  },
};
