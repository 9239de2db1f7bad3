import { z } from 'zod';
import type { Command } from '../command.ts';
import { deleteRootfs as requestDelete } from '../director-client/rootfs.ts';
import { result } from '../output.ts';
import { nameVersionSlug, onePositional } from './arg-schema.ts';
import { runStartedTask } from './follow-events.ts';

/** `refit delete-rootfs NAME/VERSION`: confirms, then deletes through a task. */
export const deleteRootfs: Command<{ readonly name: string; readonly version: string }> = {
  name: 'delete-rootfs',
  summary: 'Delete a generic stemcell (rootfs)',
  usage: 'NAME/VERSION',
  flags: [],
  args: z
    .object({ positionals: onePositional('NAME/VERSION').pipe(nameVersionSlug) })
    .transform(({ positionals }) => positionals),
  async run(deps, args, signal) {
    const client = await deps.session.director();
    await deps.ui.confirm();
    const taskId = await requestDelete(client, args, signal);
    await runStartedTask(deps, client, taskId, signal);
    return result();
  },
};
