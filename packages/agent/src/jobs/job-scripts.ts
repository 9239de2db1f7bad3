import { access, constants } from 'node:fs/promises';
import { join } from 'node:path';
import type { LifecycleScript } from '@refit/protocol';
import { AgentError, AgentErrorCode } from '../errors.ts';
import type { AgentPaths } from '../paths.ts';
import { runProgram, SCRIPT_PATH } from './run-program.ts';

export async function isExecutable(file: string): Promise<boolean> {
  try {
    await access(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export interface LifecycleRun {
  readonly paths: AgentPaths;
  readonly jobs: readonly string[];
  readonly script: LifecycleScript;
  readonly env: Readonly<Record<string, string>>;
  readonly signal: AbortSignal;
}

/**
 * Runs `/var/vcap/jobs/<job>/bin/<script>` of every job that has one, all in parallel, logging
 * to /var/vcap/sys/log/<job>/<script>.{stdout,stderr}.log. Any failure fails the whole run with
 * BOSH's summary of failed and successful jobs.
 */
export async function runLifecycleScript(run: LifecycleRun): Promise<void> {
  const results = await Promise.all(
    run.jobs.map(async (job) => {
      const file = join(run.paths.jobs, job, 'bin', run.script);
      if (!(await isExecutable(file))) return { job, ran: false, error: null };
      try {
        const result = await runProgram({
          argv: [file],
          env: { PATH: SCRIPT_PATH, LANG: 'C.UTF-8', ...run.env },
          signal: run.signal,
          stdoutLog: join(run.paths.sysLog, job, `${run.script}.stdout.log`),
          stderrLog: join(run.paths.sysLog, job, `${run.script}.stderr.log`),
        });
        const error = result.exitCode === 0 ? null : `exit ${result.exitCode ?? result.signal}`;
        return { job, ran: true, error };
      } catch (error) {
        const why = run.signal.aborted
          ? 'timed out or cancelled'
          : error instanceof Error
            ? error.message
            : String(error);
        return { job, ran: true, error: why };
      }
    }),
  );
  const ran = results.filter((r) => r.ran);
  const failed = ran.filter((r) => r.error !== null);
  if (failed.length > 0) {
    const ok = ran.filter((r) => r.error === null).map((r) => r.job);
    throw new AgentError(
      AgentErrorCode.ScriptFailed,
      `${failed.length} of ${ran.length} ${run.script} scripts failed. Failed Jobs: ${failed
        .map((r) => `${r.job} (${r.error})`)
        .join(', ')}. Successful Jobs: ${ok.join(', ')}.`,
    );
  }
}
