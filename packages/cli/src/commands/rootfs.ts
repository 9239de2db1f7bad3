import { z } from 'zod';
import type { Command } from '../command.ts';
import { listRootfs, type Rootfs } from '../director-client/rootfs.ts';
import { result, tableItem, text, version, type TableData } from '../output.ts';
import { formatBytes } from '../ui/time-format.ts';
import { noPositionals } from './arg-schema.ts';

export function rootfsTable(items: readonly Rootfs[]): TableData {
  return {
    content: 'rootfs',
    header: ['Name', 'Version', 'OS', 'SHA256', 'Size', 'Signed By'],
    rows: items.map((r) => [
      text(r.name),
      version(r.version),
      text(r.operatingSystem),
      text(r.sha256),
      r.size === undefined
        ? text('')
        : { text: formatBytes(r.size), sortKey: { kind: 'number', value: r.size } },
      text(r.signedBy === '' ? '-' : r.signedBy),
    ]),
    sortBy: [
      { column: 0, asc: true },
      { column: 1, asc: false },
    ],
  };
}

/** `refit rootfs`: the generic stemcells the director keeps for OS reload. */
export const rootfs: Command<Record<string, never>> = {
  name: 'rootfs',
  summary: 'List generic stemcells (rootfs) for OS reload',
  flags: [],
  args: z.object({ positionals: noPositionals }).transform(() => ({})),
  async run(deps, _args, signal) {
    const client = await deps.session.director();
    return result(tableItem(rootfsTable(await listRootfs(client, signal))));
  },
};
