import { z } from 'zod';
import type { Command } from '../command.ts';
import { listLocks, type Lock } from '../director-client/locks.ts';
import { result, tableItem, text, type TableData } from '../output.ts';
import { formatFullTime } from '../ui/time-format.ts';
import { noPositionals } from './arg-schema.ts';

export function locksTable(locks: readonly Lock[]): TableData {
  return {
    content: 'locks',
    header: ['Type', 'Resource', 'Task ID', 'Expires at'],
    rows: locks.map((l) => [
      text(l.type),
      text(l.resource.join(':')),
      text(l.taskId),
      l.expiresAt === undefined || l.expiresAt === 0
        ? text('')
        : { text: formatFullTime(Math.trunc(l.expiresAt)), sortKey: { kind: 'number', value: l.expiresAt } },
    ]),
    sortBy: [{ column: 2, asc: true }],
  };
}

/** `refit locks`: the director's current locks. */
export const locks: Command<Record<string, never>> = {
  name: 'locks',
  summary: 'List current locks',
  flags: [],
  args: z.object({ positionals: noPositionals }).transform(() => ({})),
  async run(deps, _args, signal) {
    return result(tableItem(locksTable(await listLocks(await deps.session.director(), signal))));
  },
};
