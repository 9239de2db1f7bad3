import { z } from 'zod';
import type { Command } from '../command.ts';
import { orphanDisk as requestOrphan } from '../director-client/disks.ts';
import { result } from '../output.ts';
import { onePositional } from './arg-schema.ts';
import { runStartedTask } from './follow-events.ts';

/** `refit orphan-disk CID`: confirms, then the instance's disk becomes an orphan (a task). */
export const orphanDisk: Command<{ readonly cid: string }> = {
  name: 'orphan-disk',
  summary: 'Orphan disk',
  usage: 'CID',
  flags: [],
  args: z
    .object({ positionals: onePositional('CID'), flags: z.object({}) })
    .transform(({ positionals }) => ({ cid: positionals })),
  async run(deps, args, signal) {
    const client = await deps.session.director();
    await deps.ui.confirm();
    await runStartedTask(deps, client, await requestOrphan(client, args.cid, signal), signal);
    return result();
  },
};
