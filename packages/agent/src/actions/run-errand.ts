import { open, stat } from 'node:fs/promises';
import { constants } from 'node:os';
import { join } from 'node:path';
import { ERRAND_OUTPUT_LIMIT, RunErrandArgs, type RunErrandResult } from '@refit/protocol';
import { AgentError, AgentErrorCode } from '../errors.ts';
import { isExecutable } from '../jobs/job-scripts.ts';
import { runProgram, SCRIPT_PATH } from '../jobs/run-program.ts';
import { specJobs } from '../spec-store.ts';
import { defineAction } from './action.ts';

/**
 * Runs `/var/vcap/jobs/<job>/bin/run` of the named errand job (or of the spec's first job that
 * has one) and answers its exit code with the last ERRAND_OUTPUT_LIMIT bytes of stdout and
 * stderr. The whole output goes to /var/vcap/sys/log/<job>/errand.{stdout,stderr}.log (what
 * `--download-logs` fetches). cancel_task kills the script's process group.
 */
export const runErrand = defineAction({
  method: 'run_errand',
  mode: 'async',
  args: RunErrandArgs,
  async run(ctx, args, signal): Promise<RunErrandResult> {
    const spec = await ctx.specs.get();
    const job = args[0] ?? (await firstErrandJob(ctx.paths.jobs, specJobs(spec)));
    if (job === undefined)
      throw new AgentError(
        AgentErrorCode.ScriptFailed,
        'At least one job template is required to run an errand',
      );
    const file = join(ctx.paths.jobs, job, 'bin', 'run');
    if (!(await isExecutable(file)))
      throw new AgentError(
        AgentErrorCode.ScriptFailed,
        `Running errand script: ${file} is not an executable`,
      );
    const stdoutLog = join(ctx.paths.sysLog, job, 'errand.stdout.log');
    const stderrLog = join(ctx.paths.sysLog, job, 'errand.stderr.log');
    const [outFrom, errFrom] = await Promise.all([sizeOf(stdoutLog), sizeOf(stderrLog)]);
    let result;
    try {
      result = await runProgram({
        argv: [file],
        env: { PATH: SCRIPT_PATH, LANG: 'C.UTF-8' },
        signal,
        stdoutLog,
        stderrLog,
      });
    } catch (error) {
      if (signal.aborted)
        throw new AgentError(AgentErrorCode.Cancelled, `Running errand script: ${job} was cancelled`, {
          cause: error,
        });
      throw new AgentError(AgentErrorCode.ScriptFailed, `Running errand script: ${String(error)}`, {
        cause: error,
      });
    }
    const [stdout, stderr] = await Promise.all([tail(stdoutLog, outFrom), tail(stderrLog, errFrom)]);
    // A script killed by a signal answers 128 + its number, as a shell reports it.
    const exitCode = result.exitCode ?? 128 + signalNumber(result.signal);
    return { exit_code: exitCode, stdout, stderr };
  },
});

async function firstErrandJob(jobsDir: string, jobs: readonly string[]): Promise<string | undefined> {
  for (const job of jobs) if (await isExecutable(join(jobsDir, job, 'bin', 'run'))) return job;
  return undefined;
}

async function sizeOf(file: string): Promise<number> {
  try {
    return (await stat(file)).size;
  } catch {
    return 0;
  }
}

/** The last ERRAND_OUTPUT_LIMIT bytes written to `file` after byte `from`. */
async function tail(file: string, from: number): Promise<string> {
  const handle = await open(file, 'r').catch(() => null);
  if (handle === null) return '';
  try {
    const size = (await handle.stat()).size;
    const start = Math.max(from, size - ERRAND_OUTPUT_LIMIT);
    const buffer = Buffer.alloc(Math.max(0, size - start));
    await handle.read(buffer, 0, buffer.length, start);
    return buffer.toString('utf8');
  } finally {
    await handle.close();
  }
}

const signalNumber = (signal: NodeJS.Signals | null): number => (signal ? constants.signals[signal] : 0);
