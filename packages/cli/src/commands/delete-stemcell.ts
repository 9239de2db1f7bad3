import { z } from 'zod';
import type { Command } from '../command.ts';
import { TaskFailedError } from '../director-client/errors.ts';
import { deleteStemcell as requestDelete, listStemcells } from '../director-client/stemcells.ts';
import { result } from '../output.ts';
import { flag, nameVersionSlug, onePositional } from './arg-schema.ts';
import { runStartedTask } from './follow-events.ts';

interface DeleteStemcellArgs {
  readonly name: string;
  readonly version: string;
  readonly force: boolean;
}

/**
 * `refit delete-stemcell NAME/VERSION [--force]`: confirms, deletes through a task. As the stock
 * CLI does, a failed task is ignored when the stemcell is gone anyway.
 */
export const deleteStemcell: Command<DeleteStemcellArgs> = {
  name: 'delete-stemcell',
  aliases: ['dels'],
  summary: 'Delete stemcell',
  usage: 'NAME/VERSION',
  flags: [{ name: 'force', kind: 'boolean', description: 'Ignore errors' }],
  args: z
    .object({
      positionals: onePositional('NAME/VERSION').pipe(nameVersionSlug),
      flags: z.object({ force: flag }),
    })
    .transform(({ positionals, flags }) => ({ ...positionals, force: flags.force })),
  async run(deps, args, signal) {
    const client = await deps.session.director();
    await deps.ui.confirm();
    const taskId = await requestDelete(client, args, args.force, signal);
    try {
      await runStartedTask(deps, client, taskId, signal);
    } catch (error) {
      if (!(error instanceof TaskFailedError)) throw error;
      const remaining = await listStemcells(client, signal);
      if (remaining.some((s) => s.name === args.name && s.version === args.version)) throw error;
    }
    return result();
  },
};
