import { z } from 'zod';
import type { Command } from '../command.ts';
import { listStemcells, type Stemcell } from '../director-client/stemcells.ts';
import { result, tableItem, text, version, type TableData } from '../output.ts';
import { noPositionals } from './arg-schema.ts';

/** The stock `stemcells` table plus Refit's Rootfs column (the generic stemcell for OS reload). */
export function stemcellsTable(stemcells: readonly Stemcell[]): TableData {
  return {
    content: 'stemcells',
    header: ['Name', 'Version', 'OS', 'CPI', 'CID', 'Rootfs'],
    rows: stemcells.map((s) => [
      text(s.name),
      version(s.version, s.deployed ? '*' : ''),
      text(s.operatingSystem),
      text(s.cpi),
      text(s.cid),
      text(s.rootfsVersion ?? ''),
    ]),
    sortBy: [
      { column: 0, asc: true },
      { column: 1, asc: false },
    ],
    notes: ['(*) Currently deployed'],
  };
}

export const stemcells: Command<Record<string, never>> = {
  name: 'stemcells',
  aliases: ['ss'],
  summary: 'List stemcells',
  flags: [],
  args: z.object({ positionals: noPositionals }).transform(() => ({})),
  async run(deps, _args, signal) {
    const client = await deps.session.director();
    return result(tableItem(stemcellsTable(await listStemcells(client, signal))));
  },
};
