import { z } from 'zod';
import type { Command } from '../command.ts';
import { cancelTask as requestCancel } from '../director-client/tasks.ts';
import { result } from '../output.ts';
import { onePositional, positiveInt } from './arg-schema.ts';

/** `refit cancel-task ID`: asks the director to cancel the task at its next checkpoint. */
export const cancelTask: Command<{ readonly id: number }> = {
  name: 'cancel-task',
  aliases: ['ct'],
  summary: 'Cancel task at its next checkpoint',
  usage: 'ID',
  flags: [],
  args: z
    .object({ positionals: onePositional('ID').pipe(positiveInt('ID')) })
    .transform(({ positionals }) => ({ id: positionals })),
  async run(deps, { id }, signal) {
    await requestCancel(await deps.session.director(), id, signal);
    return result();
  },
};
