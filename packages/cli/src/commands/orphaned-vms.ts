import { z } from 'zod';
import type { OrphanedVmAsRead } from '@refit/protocol';
import type { Command } from '../command.ts';
import { listOrphanedVms } from '../director-client/clean-up.ts';
import { result, tableItem, text, type Cell, type TableData } from '../output.ts';
import { formatFullTime } from '../ui/time-format.ts';
import { noPositionals } from './arg-schema.ts';

/** BOSH prints times as Ruby's `Time#to_s` (`2026-11-25 03:04:05 UTC`); the CLI shows its long form. */
function orphanedAt(value: string): Cell {
  const millis = Date.parse(value.replace(' UTC', 'Z').replace(' ', 'T'));
  if (Number.isNaN(millis)) return text(value);
  const seconds = Math.trunc(millis / 1000);
  return { text: formatFullTime(seconds), sortKey: { kind: 'number', value: seconds } };
}

export function orphanedVmsTable(vms: readonly OrphanedVmAsRead[]): TableData {
  return {
    content: 'orphaned_vms',
    header: ['VM CID', 'Deployment', 'Instance', 'AZ', 'IPs', 'Orphaned At'],
    rows: vms.map((vm) => [
      text(vm.cid),
      text(vm.deployment_name),
      text(vm.instance_name),
      text(vm.az ?? ''),
      text(vm.ip_addresses.join('\n')),
      orphanedAt(vm.orphaned_at),
    ]),
    sortBy: [{ column: 5, asc: true }],
  };
}

/** `refit orphaned-vms` (the stock CLI's orphaned_vms.go): VMs no instance owns, still to be deleted. */
export const orphanedVms: Command<Record<string, never>> = {
  name: 'orphaned-vms',
  summary: 'List all the orphaned VMs in all deployments',
  flags: [],
  args: z.object({ positionals: noPositionals }).transform(() => ({})),
  async run(deps, _args, signal) {
    return result(tableItem(orphanedVmsTable(await listOrphanedVms(await deps.session.director(), signal))));
  },
};
