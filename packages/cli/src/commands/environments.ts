import { z } from 'zod';
import type { Command } from '../command.ts';
import { result, tableItem, text } from '../output.ts';
import { noPositionals } from './arg-schema.ts';

/** `refit environments`: the aliased directors in ~/.refit/config. */
export const environments: Command<Record<string, never>> = {
  name: 'environments',
  aliases: ['envs'],
  summary: 'List environments',
  flags: [],
  args: z.object({ positionals: noPositionals }).transform(() => ({})),
  async run(deps) {
    const config = await deps.config.load();
    return result(
      tableItem({
        content: 'environments',
        header: ['URL', 'Alias'],
        rows: config.environments.map((e) => [text(e.url), text(e.alias ?? '')]),
        sortBy: [{ column: 0, asc: true }],
      }),
    );
  },
};
