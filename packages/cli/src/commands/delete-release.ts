import { z } from 'zod';
import type { Command } from '../command.ts';
import { TaskFailedError } from '../director-client/errors.ts';
import { deleteRelease as requestDelete, listReleases } from '../director-client/releases.ts';
import { result } from '../output.ts';
import { flag, onePositional } from './arg-schema.ts';
import { runStartedTask } from './follow-events.ts';

interface DeleteReleaseArgs {
  readonly name: string;
  /** Every version of the release when undefined. */
  readonly version: string | undefined;
  readonly force: boolean;
}

/** `NAME[/VERSION]`, as the stock CLI's release-or-series slug. */
const releaseOrSeriesSlug = z.string().transform((slug, ctx) => {
  const [name = '', version, ...rest] = slug.split('/');
  if (name === '' || version === '' || rest.length > 0) {
    ctx.addIssue({ code: 'custom', message: `Expected '${slug}' to be in format 'NAME[/VERSION]'` });
    return z.NEVER;
  }
  return { name, version };
});

/**
 * `refit delete-release NAME[/VERSION] [--force]`: confirms, deletes through a task. As the stock
 * CLI does, a failed task is ignored when the release (version) is gone anyway.
 */
export const deleteRelease: Command<DeleteReleaseArgs> = {
  name: 'delete-release',
  aliases: ['delr'],
  summary: 'Delete release',
  usage: 'NAME[/VERSION]',
  flags: [{ name: 'force', kind: 'boolean', description: 'Ignore errors' }],
  args: z
    .object({
      positionals: onePositional('NAME[/VERSION]').pipe(releaseOrSeriesSlug),
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
      const remaining = await listReleases(client, signal);
      const stillThere = remaining.some(
        (r) => r.name === args.name && (args.version === undefined || r.version === args.version),
      );
      if (stillThere) throw error;
    }
    return result();
  },
};
