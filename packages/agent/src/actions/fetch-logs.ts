import { randomUUID } from 'node:crypto';
import { cp, mkdir, rm, stat } from 'node:fs/promises';
import { join, matchesGlob, relative } from 'node:path';
import { FetchLogsArgs } from '@refit/protocol';
import { createTgz } from '../archive/tgz.ts';
import { defineAction } from './action.ts';

/** Copies the files of `from` whose path (relative to it) matches a filter; missing trees are skipped. */
async function copyMatching(from: string, to: string, filters: readonly string[]): Promise<void> {
  if (
    !(await stat(from).then(
      (s) => s.isDirectory(),
      () => false,
    ))
  )
    return;
  await cp(from, to, {
    recursive: true,
    force: true,
    filter: async (source) => {
      if (source === from || (await stat(source)).isDirectory()) return true;
      const rel = relative(from, source);
      return filters.some((glob) => matchesGlob(rel, glob));
    },
  });
}

/**
 * Tars the logs and uploads them: `job` = /var/vcap/sys/log, `agent` = /var/vcap/bosh/log
 * (comma lists allowed). Filters are globs relative to each tree (BOSH's `--only`); none or
 * an empty list means every file (`**\/*`).
 */
export const fetchLogs = defineAction({
  method: 'fetch_logs',
  mode: 'async',
  args: FetchLogsArgs,
  async run(ctx, args, signal) {
    const kinds = (args[0] ?? 'job').split(',').map((k) => k.trim());
    const given = args[1] ?? [];
    const filters = given.length > 0 ? given : ['**/*'];
    const staging = join(ctx.paths.dataTmp, `logs-${randomUUID()}`);
    const tarball = `${staging}.tgz`;
    try {
      await mkdir(staging, { recursive: true });
      if (kinds.includes('job')) await copyMatching(ctx.paths.sysLog, staging, filters);
      if (kinds.includes('agent'))
        await copyMatching(join(ctx.paths.boshDir, 'log'), join(staging, 'agent'), filters);
      await createTgz(staging, tarball, signal);
      return await ctx.blobstore.upload(tarball, signal);
    } finally {
      await rm(staging, { recursive: true, force: true });
      await rm(tarball, { force: true });
    }
  },
});
