import { z } from 'zod';
import type { OrphanDiskItem } from '@refit/protocol';
import type { Command } from '../command.ts';
import { listOrphanDisks } from '../director-client/disks.ts';
import { result, tableItem, text, type Cell, type TableData } from '../output.ts';
import { formatBytes, formatFullTime } from '../ui/time-format.ts';
import { flag, noPositionals } from './arg-schema.ts';

/** BOSH's `orphaned_at` is Ruby's `Time#to_s` (`2026-11-25 03:04:05 UTC`); shown in the long form. */
function orphanedAt(value: string): Cell {
  const millis = Date.parse(value.replace(' UTC', 'Z').replace(' ', 'T'));
  if (Number.isNaN(millis)) return text(value);
  const seconds = Math.trunc(millis / 1000);
  return { text: formatFullTime(seconds), sortKey: { kind: 'number', value: seconds } };
}

/** Sizes are MiB, shown as the stock CLI's `NewValueMegaBytes` (`1.0 GiB`). */
function megabytes(size: number | null): Cell {
  if (size === null) return { text: '', sortKey: { kind: 'number', value: 0 } };
  return { text: formatBytes(size * 1024 * 1024), sortKey: { kind: 'number', value: size } };
}

/** The stock `disks --orphaned` table: newest orphan first. */
export function orphanDisksTable(disks: readonly OrphanDiskItem[]): TableData {
  return {
    content: 'disks',
    header: ['Disk CID', 'Size', 'Deployment', 'Instance', 'AZ', 'Orphaned At'],
    rows: disks.map((d) => [
      text(d.disk_cid),
      megabytes(d.size),
      text(d.deployment_name),
      text(d.instance_name),
      text(d.az ?? ''),
      orphanedAt(d.orphaned_at),
    ]),
    sortBy: [{ column: 5, asc: false }],
  };
}

/** `refit disks --orphaned` (the stock CLI's disks.go): the orphaned persistent disks. */
export const disks: Command<Record<string, never>> = {
  name: 'disks',
  summary: 'List disks',
  flags: [{ name: 'orphaned', kind: 'boolean', short: 'o', description: 'List orphaned disks' }],
  args: z
    .object({ positionals: noPositionals, flags: z.object({ orphaned: flag }) })
    .transform(({ flags }, ctx) => {
      if (!flags.orphaned) {
        ctx.addIssue({ code: 'custom', message: 'Only --orphaned is supported' });
        return z.NEVER;
      }
      return {};
    }),
  async run(deps, _args, signal) {
    const client = await deps.session.director();
    return result(tableItem(orphanDisksTable(await listOrphanDisks(client, signal))));
  },
};
