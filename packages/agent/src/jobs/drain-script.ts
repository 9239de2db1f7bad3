import { join } from 'node:path';
import type { ApplySpec } from '@refit/protocol';
import { AgentError, AgentErrorCode } from '../errors.ts';
import type { AgentPaths } from '../paths.ts';
import { isExecutable } from './job-scripts.ts';
import { runProgram, SCRIPT_PATH } from './run-program.ts';

/** The arguments of a drain run (reference §3.5, bosh-agent `script/drain`). */
export interface DrainParams {
  readonly jobChange: 'job_changed' | 'job_new' | 'job_shutdown' | 'job_check_status';
  readonly hashChange: 'hash_changed' | 'hash_unchanged' | 'hash_new';
  readonly updatedPackages: readonly string[];
  /** `{"persistent_disk":N}` of the current and next spec; next is absent for status checks. */
  readonly jobState: string;
  readonly jobNextState: string | null;
}

const presented = (spec: ApplySpec): string => JSON.stringify({ persistent_disk: spec.persistent_disk });

export function updateParams(current: ApplySpec, next: ApplySpec): DrainParams {
  const hadJobs = (current.job?.templates.length ?? 0) > 0;
  const currentHash = current.configuration_hash ?? '';
  const updatedPackages = Object.values(next.packages)
    .filter((pkg) => current.packages[pkg.name]?.sha1 !== pkg.sha1)
    .map((pkg) => pkg.name)
    .sort();
  return {
    jobChange: hadJobs ? 'job_changed' : 'job_new',
    hashChange:
      currentHash === ''
        ? 'hash_new'
        : currentHash === next.configuration_hash
          ? 'hash_unchanged'
          : 'hash_changed',
    updatedPackages,
    jobState: presented(current),
    jobNextState: presented(next),
  };
}

export function shutdownParams(current: ApplySpec, next: ApplySpec | undefined): DrainParams {
  return {
    jobChange: 'job_shutdown',
    hashChange: 'hash_unchanged',
    updatedPackages: [],
    jobState: presented(current),
    jobNextState: next === undefined ? null : presented(next),
  };
}

function statusParams(params: DrainParams): DrainParams {
  return {
    ...params,
    jobChange: 'job_check_status',
    hashChange: 'hash_unchanged',
    updatedPackages: [],
    jobNextState: null,
  };
}

export interface DrainRun {
  readonly paths: AgentPaths;
  readonly job: string;
  readonly params: DrainParams;
  readonly signal: AbortSignal;
  /** Waits the seconds a drain script asks for (injected so tests can watch the contract). */
  readonly wait: (seconds: number, signal: AbortSignal) => Promise<void>;
}

/**
 * BOSH's drain contract for one job: exit 0 and print one integer. N ≥ 0: wait N s, done.
 * N < 0: wait |N| s, call again with `job_check_status`, until it prints N ≥ 0. No timeout.
 * Answers how many times the script ran.
 */
export async function runDrainScript(run: DrainRun): Promise<number> {
  const file = join(run.paths.jobs, run.job, 'bin', 'drain');
  if (!(await isExecutable(file))) return 0;
  let params = run.params;
  for (let calls = 1; ; calls++) {
    const env: Record<string, string> = {
      PATH: SCRIPT_PATH,
      LANG: 'C.UTF-8',
      BOSH_JOB_STATE: params.jobState,
    };
    if (params.jobNextState !== null) env['BOSH_JOB_NEXT_STATE'] = params.jobNextState;
    const result = await runProgram({
      argv: [file, params.jobChange, params.hashChange, ...params.updatedPackages],
      env,
      signal: run.signal,
      captureStdout: 4096,
      stderrLog: join(run.paths.sysLog, run.job, 'drain.stderr.log'),
    });
    if (result.exitCode !== 0) {
      throw new AgentError(
        AgentErrorCode.ScriptFailed,
        `drain script of ${run.job} failed: exit ${result.exitCode ?? result.signal}`,
      );
    }
    const text = result.stdout.trim();
    if (!/^-?\d+$/.test(text)) {
      throw new AgentError(
        AgentErrorCode.ScriptFailed,
        `drain script of ${run.job} did not print a signed integer: '${text.slice(0, 100)}'`,
      );
    }
    const value = Number(text);
    await run.wait(Math.abs(value), run.signal);
    if (value >= 0) return calls;
    params = statusParams(params);
  }
}
