import { z } from 'zod';
import type { Command } from '../command.ts';
import { currentTasks, recentTasks, type Task } from '../director-client/tasks.ts';
import { int, result, tableItem, text, type Cell, type TableData } from '../output.ts';
import { formatFullTime } from '../ui/time-format.ts';
import { flag, noPositionals } from './arg-schema.ts';

const time = (unixSeconds: number | undefined): Cell =>
  unixSeconds === undefined || unixSeconds === 0
    ? text('')
    : { text: formatFullTime(unixSeconds), sortKey: { kind: 'number', value: unixSeconds } };

/** The stock `tasks` table, newest first. */
export function tasksTable(tasks: readonly Task[]): TableData {
  return {
    content: 'tasks',
    header: ['ID', 'State', 'Started At', 'Finished At', 'User', 'Deployment', 'Description', 'Result'],
    rows: tasks.map((t) => [
      int(t.id),
      text(t.state),
      time(t.startedAt),
      t.finishedAt === undefined || t.finishedAt === 0 ? text('-') : time(t.finishedAt),
      text(t.user),
      text(t.deployment),
      text(t.description),
      text(t.result),
    ]),
    sortBy: [{ column: 0, asc: false }],
  };
}

interface TasksArgs {
  readonly recent: number | undefined;
  readonly all: boolean;
}

/** `refit tasks [--recent[=N]] [--all] [-d DEP]`: running tasks, or the N most recent. */
export const tasks: Command<TasksArgs> = {
  name: 'tasks',
  aliases: ['ts'],
  summary: 'List running or recent tasks',
  flags: [
    {
      name: 'recent',
      short: 'r',
      kind: 'optional-int',
      optionalValue: 30,
      description: "Show 30 recent tasks. Use '=' to specify the number of tasks to show",
    },
    { name: 'all', short: 'a', kind: 'boolean', description: 'Include all task types (ssh, logs, vms, etc)' },
  ],
  args: z
    .object({
      positionals: noPositionals,
      flags: z.object({ recent: z.number().int().positive().optional(), all: flag }),
    })
    .transform(({ flags }) => ({ recent: flags.recent, all: flags.all })),
  async run(deps, args, signal) {
    const client = await deps.session.director();
    const deployment = deps.globals.deployment;
    const found =
      args.recent === undefined
        ? await currentTasks(
            client,
            { all: true, ...(deployment === undefined ? {} : { deployment }) },
            signal,
          )
        : await recentTasks(
            client,
            args.recent,
            { all: args.all, ...(deployment === undefined ? {} : { deployment }) },
            signal,
          );
    return result(tableItem(tasksTable(found)));
  },
};
