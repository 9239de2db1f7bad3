import { z } from 'zod';
import type { Command } from '../command.ts';
import { listErrands } from '../director-client/errands.ts';
import { result, tableItem, text } from '../output.ts';
import { noPositionals } from './arg-schema.ts';
import { requiredDeployment } from './deployment-name.ts';

/** `refit -d DEP errands` (the stock CLI's errands.go): the errands of a deployment by name. */
export const errands: Command<Record<string, never>> = {
  name: 'errands',
  aliases: ['es'],
  summary: 'List errands',
  flags: [],
  args: z.object({ positionals: noPositionals }).transform(() => ({})),
  async run(deps, _args, signal) {
    const client = await deps.session.director();
    const list = await listErrands(client, requiredDeployment(deps), signal);
    return result(
      tableItem({
        content: 'errands',
        header: ['Name'],
        rows: list.map((e) => [text(e.name)]),
        sortBy: [{ column: 0, asc: true }],
      }),
    );
  },
};
