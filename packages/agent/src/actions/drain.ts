import { join } from 'node:path';
import { DrainArgs } from '@refit/protocol';
import { AgentError, AgentErrorCode } from '../errors.ts';
import { runDrainScript, shutdownParams, updateParams, type DrainParams } from '../jobs/drain-script.ts';
import { isExecutable } from '../jobs/job-scripts.ts';
import { runProgram, SCRIPT_PATH } from '../jobs/run-program.ts';
import { specJobs } from '../spec-store.ts';
import { defineAction } from './action.ts';

/**
 * `update` and `shutdown`: unmonitor every process, then run each job's bin/drain in parallel
 * under BOSH's contract (dynamic drain handled here, as the Go agent does) and answer 0.
 * `status` (the pre-dynamic-drain director's poll) runs each script once with
 * `job_check_status`: a negative number while any job still drains, else the largest printed.
 */
export const drain = defineAction({
  method: 'drain',
  mode: 'async',
  args: DrainArgs,
  async run(ctx, args, signal): Promise<number> {
    const current = await ctx.specs.get();
    const jobs = specJobs(current);
    if (args[0] === 'status') {
      const values: number[] = [];
      for (const job of jobs) {
        const file = join(ctx.paths.jobs, job, 'bin', 'drain');
        if (!(await isExecutable(file))) continue;
        const result = await runProgram({
          argv: [file, 'job_check_status', 'hash_unchanged'],
          env: {
            PATH: SCRIPT_PATH,
            BOSH_JOB_STATE: JSON.stringify({ persistent_disk: current.persistent_disk }),
          },
          signal,
          captureStdout: 4096,
        });
        const text = result.stdout.trim();
        if (result.exitCode !== 0 || !/^-?\d+$/.test(text)) {
          throw new AgentError(
            AgentErrorCode.ScriptFailed,
            `drain status of ${job} failed: '${text.slice(0, 100)}'`,
          );
        }
        values.push(Number(text));
      }
      // Still draining somewhere: the director waits |N| s and asks again (the soonest wins).
      const pending = values.filter((v) => v < 0);
      return pending.length > 0 ? Math.max(...pending) : Math.max(0, ...values);
    }
    const params: DrainParams =
      args[0] === 'update' ? updateParams(current, args[1]) : shutdownParams(current, args[1]);
    ctx.supervisor.unmonitorAll();
    const results = await Promise.allSettled(
      jobs.map((job) => runDrainScript({ paths: ctx.paths, job, params, signal, wait: ctx.sleep })),
    );
    const failed = results.flatMap((r) =>
      r.status === 'rejected' ? [String((r.reason as Error).message)] : [],
    );
    if (failed.length > 0) {
      throw new AgentError(
        AgentErrorCode.ScriptFailed,
        `${failed.length} of ${jobs.length} drain scripts failed: ${failed.join('; ')}`,
      );
    }
    return 0;
  },
});
