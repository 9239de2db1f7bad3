import { z } from 'zod';
import type { Command } from '../command.ts';
import { getInfo } from '../director-client/info.ts';
import { result, tableItem } from '../output.ts';
import { noPositionals } from './arg-schema.ts';
import { infoTable } from './info-table.ts';

/** `refit env`: the director's name, version, CPI, features and who we are logged in as. */
export const env: Command<Record<string, never>> = {
  name: 'environment',
  aliases: ['env'],
  summary: 'Show environment',
  flags: [],
  args: z.object({ positionals: noPositionals }).transform(() => ({})),
  async run(deps, _args, signal) {
    const client = await deps.session.director();
    return result(tableItem(infoTable(await getInfo(client, signal))));
  },
};
