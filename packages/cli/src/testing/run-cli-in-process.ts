import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { runCli } from '../run-cli.ts';

export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** A private HOME for one test (removed by `cleanup`). */
export async function privateHome(): Promise<{
  readonly home: string;
  readonly cleanup: () => Promise<void>;
}> {
  const home = await mkdtemp(join(tmpdir(), 'refit-cli-home-'));
  return { home, cleanup: () => rm(home, { recursive: true, force: true }) };
}

/** Runs the CLI in this process with captured output, fast polling and no retry delay. */
export async function runCliCaptured(
  argv: readonly string[],
  options: { readonly home: string; readonly stdin?: string; readonly env?: Record<string, string> },
): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const code = await runCli({
    argv,
    env: options.env ?? {},
    home: options.home,
    stdout: (text) => (stdout += text),
    stderr: (text) => (stderr += text),
    stdin: Readable.from(options.stdin === undefined ? [] : [options.stdin]),
    stdoutIsTty: false,
    signal: AbortSignal.timeout(20_000),
    taskPollIntervalMs: 10,
    retryDelayMs: 10,
  });
  return { code, stdout, stderr };
}
