import { join } from 'node:path';
import { ApplyArgs } from '@refit/protocol';
import { specJobs } from '../spec-store.ts';
import { defineAction } from './action.ts';

/**
 * Installs the spec's jobs and packages (when it carries a configuration hash), loads their
 * monit files (a syntax error fails apply and names file and line) and persists the spec. A
 * spec without configuration hash (the director's first, partial apply) is only stored.
 */
export const apply = defineAction({
  method: 'apply',
  mode: 'async',
  args: ApplyArgs,
  async run(ctx, [spec], signal) {
    if ((spec.configuration_hash ?? '') !== '') {
      await ctx.installer.install(spec, signal);
      await ctx.supervisor.load(
        specJobs(spec).map((job) => ({ job, monitFile: join(ctx.paths.jobs, job, 'monit') })),
      );
    }
    await ctx.specs.set(spec);
    return 'applied' as const;
  },
});
