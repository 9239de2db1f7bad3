import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { once } from 'node:events';

export interface ProgramResult {
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
}

export interface RunProgramOptions {
  readonly argv: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly signal: AbortSignal;
  /** Appends stdout/stderr to these files (created with their folder). */
  readonly stdoutLog?: string;
  readonly stderrLog?: string;
  /** Keep stdout in memory (drain reads its number from it), at most this many bytes. */
  readonly captureStdout?: number;
  readonly cwd?: string;
}

export const SCRIPT_PATH = '/var/vcap/bosh/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/**
 * Runs a job script in its own process group. On abort (cancel or timeout) the whole group gets
 * SIGTERM, then SIGKILL 10 s later, so a script cannot leave children behind.
 */
export async function runProgram(options: RunProgramOptions): Promise<ProgramResult> {
  options.signal.throwIfAborted();
  const [command, ...args] = options.argv;
  const logs = await Promise.all(
    [options.stdoutLog, options.stderrLog].map(async (file) => {
      if (file === undefined) return null;
      await mkdir(dirname(file), { recursive: true });
      const stream = createWriteStream(file, { flags: 'a' });
      await once(stream, 'open');
      return stream;
    }),
  );
  const child = spawn(command ?? '', args, {
    cwd: options.cwd ?? '/',
    env: { ...options.env },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  child.stdout.on('data', (chunk: Buffer) => {
    if (options.captureStdout !== undefined && stdout.length < options.captureStdout)
      stdout += chunk.toString();
    logs[0]?.write(chunk);
  });
  child.stderr.on('data', (chunk: Buffer) => logs[1]?.write(chunk));
  let killTimer: NodeJS.Timeout | undefined;
  const onAbort = (): void => {
    killGroup(child.pid, 'SIGTERM');
    killTimer = setTimeout(() => killGroup(child.pid, 'SIGKILL'), 10_000);
    killTimer.unref();
  };
  options.signal.addEventListener('abort', onAbort, { once: true });
  try {
    const [exitCode, signal] = (await once(child, 'close')) as [number | null, NodeJS.Signals | null];
    options.signal.throwIfAborted();
    return { exitCode, signal, stdout };
  } finally {
    options.signal.removeEventListener('abort', onAbort);
    if (killTimer) clearTimeout(killTimer);
    await Promise.all(logs.map((s) => new Promise<void>((r) => (s ? s.end(r) : r()))));
  }
}

function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    /* already gone */
  }
}
