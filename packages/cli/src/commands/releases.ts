import { z } from 'zod';
import type { Command } from '../command.ts';
import { listReleases, type ReleaseVersion } from '../director-client/releases.ts';
import { result, tableItem, text, version, type TableData } from '../output.ts';
import { noPositionals } from './arg-schema.ts';

/** The stock `releases` table: `*` marks deployed versions, `+` uncommitted changes. */
export function releasesTable(releases: readonly ReleaseVersion[]): TableData {
  return {
    content: 'releases',
    header: ['Name', 'Version', 'Commit Hash'],
    rows: releases.map((r) => [
      text(r.name),
      version(r.version, r.deployed ? '*' : ''),
      text(r.commitHash === '' ? '' : `${r.commitHash}${r.uncommittedChanges ? '+' : ''}`),
    ]),
    sortBy: [
      { column: 0, asc: true },
      { column: 1, asc: false },
    ],
    notes: ['(*) Currently deployed', '(+) Uncommitted changes'],
  };
}

/** `refit releases`: `GET /releases`. */
export const releases: Command<Record<string, never>> = {
  name: 'releases',
  aliases: ['rs'],
  summary: 'List releases',
  flags: [],
  args: z.object({ positionals: noPositionals }).transform(() => ({})),
  async run(deps, _args, signal) {
    const client = await deps.session.director();
    return result(tableItem(releasesTable(await listReleases(client, signal))));
  },
};
