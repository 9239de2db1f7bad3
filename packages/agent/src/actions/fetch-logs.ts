import { randomUUID } from 'node:crypto';
import { cp, mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { FetchLogsArgs } from '@refit/protocol';
import { createTgz } from '../archive/tgz.ts';
import { defineAction } from './action.ts';

/**
 * Tars the logs and uploads them: `job` = /var/vcap/sys/log, `agent` = /var/vcap/bosh/log
 * (comma lists allowed). Filters (globs) are not applied: every file of the chosen trees goes.
 */
export const fetchLogs = defineAction({
  method: 'fetch_logs',
  mode: 'async',
  args: FetchLogsArgs,
  async run(ctx, args, signal) {
    const kinds = (args[0] ?? 'job').split(',').map((k) => k.trim());
    const staging = join(ctx.paths.dataTmp, `logs-${randomUUID()}`);
    const tarball = `${staging}.tgz`;
    try {
      await mkdir(staging, { recursive: true });
      if (kinds.includes('job')) {
        await cp(ctx.paths.sysLog, staging, { recursive: true, force: true }).catch(() => {});
      }
      if (kinds.includes('agent')) {
        await cp(join(ctx.paths.boshDir, 'log'), join(staging, 'agent'), { recursive: true }).catch(() => {});
      }
      await createTgz(staging, tarball, signal);
      return await ctx.blobstore.upload(tarball, signal);
    } finally {
      await rm(staging, { recursive: true, force: true });
      await rm(tarball, { force: true });
    }
  },
});
