import { z } from 'zod';
import type { Command } from '../command.ts';
import { deleteOrphanDisk, listOrphanDisks } from '../director-client/disks.ts';
import { TaskFailedError } from '../director-client/errors.ts';
import { result } from '../output.ts';
import { onePositional } from './arg-schema.ts';
import { runStartedTask } from './follow-events.ts';

/**
 * `refit delete-disk CID`: confirms, deletes an orphaned disk through a task. As the stock CLI
 * does, a failed task is ignored when the disk is no longer listed as an orphan.
 */
export const deleteDisk: Command<{ readonly cid: string }> = {
  name: 'delete-disk',
  summary: 'Delete disk',
  usage: 'CID',
  flags: [],
  args: z
    .object({ positionals: onePositional('CID'), flags: z.object({}) })
    .transform(({ positionals }) => ({ cid: positionals })),
  async run(deps, args, signal) {
    const client = await deps.session.director();
    await deps.ui.confirm();
    const taskId = await deleteOrphanDisk(client, args.cid, signal);
    try {
      await runStartedTask(deps, client, taskId, signal);
    } catch (error) {
      if (!(error instanceof TaskFailedError)) throw error;
      const remaining = await listOrphanDisks(client, signal);
      if (remaining.some((d) => d.disk_cid === args.cid)) throw error;
    }
    return result();
  },
};
