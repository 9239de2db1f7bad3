import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { specJobs } from '../spec-store.ts';
import { defineAction } from './action.ts';

/**
 * Reloads the jobs' monit files, starts every process in dependency order (in the background,
 * as `monit start all` does: the director watches get_state) and removes the stopped marker.
 */
export const start = defineAction({
  method: 'start',
  mode: 'sync',
  args: z.array(z.unknown()),
  async run(ctx) {
    const spec = await ctx.specs.get();
    await ctx.supervisor.load(
      specJobs(spec).map((job) => ({ job, monitFile: join(ctx.paths.jobs, job, 'monit') })),
    );
    await rm(ctx.paths.stoppedMarker, { force: true });
    void ctx.supervisor.startAll();
    return 'started' as const;
  },
});
