import { z } from 'zod';
import type { Command } from '../command.ts';
import { currentTasks, findTask, type TaskOutputType } from '../director-client/tasks.ts';
import { CliError } from '../errors.ts';
import { result } from '../output.ts';
import { flag, optionalPositional, positiveInt } from './arg-schema.ts';
import { followTaskOutput } from './follow-events.ts';

interface TaskArgs {
  readonly id: number | undefined;
  readonly type: TaskOutputType;
  /** `--event`: the raw event log, as the stock CLI prints it with that flag. */
  readonly raw: boolean;
  readonly all: boolean;
}

/**
 * `refit task [ID] [--event|--debug|--cpi|--result]`: shows a task's log and follows it while it
 * runs. Without ID: the first current task.
 */
export const task: Command<TaskArgs> = {
  name: 'task',
  aliases: ['t'],
  summary: 'Show task status and start tracking its output',
  usage: '[ID]',
  flags: [
    { name: 'event', kind: 'boolean', description: 'Track event log' },
    { name: 'cpi', kind: 'boolean', description: 'Track CPI log' },
    { name: 'debug', kind: 'boolean', description: 'Track debug log' },
    { name: 'result', kind: 'boolean', description: 'Track result log' },
    { name: 'all', short: 'a', kind: 'boolean', description: 'Include all task types (ssh, logs, vms, etc)' },
  ],
  args: z
    .object({
      positionals: optionalPositional('ID').pipe(positiveInt('ID').optional()),
      flags: z.object({ event: flag, cpi: flag, debug: flag, result: flag, all: flag }),
    })
    .transform(({ positionals, flags }) => ({
      id: positionals,
      type: flags.cpi ? 'cpi' : flags.debug ? 'debug' : flags.result ? 'result' : 'event',
      raw: flags.event,
      all: flags.all,
    })),
  async run(deps, args, signal) {
    const client = await deps.session.director();
    let id = args.id;
    if (id === undefined) {
      const deployment = deps.globals.deployment;
      const running = await currentTasks(
        client,
        { all: args.all, ...(deployment === undefined ? {} : { deployment }) },
        signal,
      );
      id = running[0]?.id;
      if (id === undefined) throw new CliError('no-task', 'No task found');
    } else {
      await findTask(client, id, signal);
    }
    await followTaskOutput(deps, client, id, signal, args.type, args.raw ? 'plain' : undefined);
    return result();
  },
};
