import { RunScriptArgs } from '@refit/protocol';
import { runLifecycleScript } from '../jobs/job-scripts.ts';
import { specJobs } from '../spec-store.ts';
import { defineAction } from './action.ts';

/** Runs a lifecycle script of every job that has it, in parallel, with env and a timeout. */
export const runScript = defineAction({
  method: 'run_script',
  mode: 'async',
  args: RunScriptArgs,
  async run(ctx, [script, options], signal) {
    const spec = await ctx.specs.get();
    await runLifecycleScript({
      paths: ctx.paths,
      jobs: specJobs(spec),
      script,
      env: options?.env ?? {},
      signal: AbortSignal.any([signal, AbortSignal.timeout(ctx.scriptTimeoutMs)]),
    });
    return {};
  },
});
