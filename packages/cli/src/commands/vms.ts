import { z } from 'zod';
import type { Command } from '../command.ts';
import { result, tableItem } from '../output.ts';
import { instanceTable } from '../ui/instance-table.ts';
import { flag, noPositionals } from './arg-schema.ts';
import { vmInfosByDeployment } from './vm-listing.ts';

/**
 * `refit [-d DEP] vms [--vitals]`: one table per deployment (every deployment without -d):
 * Instance, Process State, AZ, IPs, VM CID, VM Type, Active, Stemcell.
 */
export const vms: Command<{ readonly vitals: boolean }> = {
  name: 'vms',
  summary: 'List all VMs in all deployments',
  flags: [{ name: 'vitals', kind: 'boolean', description: 'Show vitals' }],
  args: z
    .object({ positionals: noPositionals, flags: z.object({ vitals: flag }) })
    .transform(({ flags }) => ({ vitals: flags.vitals })),
  async run(deps, args, signal) {
    const client = await deps.session.director();
    const listed = await vmInfosByDeployment(deps, client, 'vms', signal);
    return result(
      ...listed.map(({ deployment, infos }) =>
        tableItem(
          instanceTable(infos, {
            content: 'vms',
            title: `Deployment '${deployment}'`,
            vmDetails: true,
            details: false,
            processes: false,
            vitals: args.vitals,
          }),
        ),
      ),
    );
  },
};
