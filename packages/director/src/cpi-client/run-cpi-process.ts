import { spawn } from 'node:child_process';

/** How one CPI process run ended when it produced output (whatever its exit code). */
export interface CpiProcessResult {
  readonly stdout: Buffer;
  readonly exitCode: number | null;
  readonly exitSignal: NodeJS.Signals | null;
  readonly durationMs: number;
  /** The CPI exited but a process it left behind kept stdout/stderr open; we stopped reading. */
  readonly pipesLeftOpen: boolean;
}

export interface CpiProcessOptions {
  readonly command: string;
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly input: string;
  readonly timeoutMs: number;
  readonly signal: AbortSignal;
  /** Each complete line of stderr as it arrives (the last one even without a newline). */
  readonly onStderrLine: (line: string) => void;
  /** After the CPI exits, how long to wait for its pipes to close. */
  readonly pipeGraceMs?: number;
  readonly maxStdoutBytes?: number;
}

/** The process did not finish within `timeoutMs` and its process group was killed. */
export class CpiProcessTimeout extends Error {
  override name = 'CpiProcessTimeout';
}
/** The executable could not be started. */
export class CpiProcessSpawnFailed extends Error {
  override name = 'CpiProcessSpawnFailed';
}
/** stdout grew past `maxStdoutBytes`; the process group was killed. */
export class CpiProcessOutputTooLarge extends Error {
  override name = 'CpiProcessOutputTooLarge';
}

/**
 * Runs the CPI once: spawns it in its own process group with exactly `env`, writes `input` to
 * stdin and closes it, collects stdout, streams stderr lines out. On timeout or abort the whole
 * process group gets SIGKILL (so helpers the CPI started die with it) and this throws
 * CpiProcessTimeout or the signal's reason.
 */
export function runCpiProcess(options: CpiProcessOptions): Promise<CpiProcessResult> {
  const { signal } = options;
  if (signal.aborted) return Promise.reject(toError(signal.reason));
  const started = performance.now();
  const maxStdout = options.maxStdoutBytes ?? 64 * 1024 * 1024;
  const child = spawn(options.command, [...options.args], {
    env: { ...options.env },
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: true,
  });

  return new Promise<CpiProcessResult>((resolve, reject) => {
    const stdout: Buffer[] = [];
    let stdoutBytes = 0;
    let stderrPartial = '';
    let exitCode: number | null = null;
    let exitSignal: NodeJS.Signals | null = null;
    let settled = false;
    let graceTimer: NodeJS.Timeout | undefined;

    const killGroup = () => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // ESRCH: the group is already gone.
      }
    };
    const cleanup = () => {
      settled = true;
      clearTimeout(timer);
      clearTimeout(graceTimer);
      signal.removeEventListener('abort', onAbort);
    };
    const fail = (error: Error) => {
      if (settled) return;
      cleanup();
      killGroup();
      child.stdout.destroy();
      child.stderr.destroy();
      reject(error);
    };
    const succeed = (pipesLeftOpen: boolean) => {
      if (settled) return;
      cleanup();
      if (stderrPartial !== '') options.onStderrLine(stderrPartial);
      if (pipesLeftOpen) {
        child.stdout.destroy();
        child.stderr.destroy();
      }
      resolve({
        stdout: Buffer.concat(stdout),
        exitCode,
        exitSignal,
        durationMs: performance.now() - started,
        pipesLeftOpen,
      });
    };
    const onAbort = () => fail(toError(signal.reason));
    const timer = setTimeout(
      () => fail(new CpiProcessTimeout(`timed out after ${formatSeconds(options.timeoutMs)} s`)),
      options.timeoutMs,
    );
    signal.addEventListener('abort', onAbort, { once: true });

    child.on('error', (error) => fail(new CpiProcessSpawnFailed(error.message, { cause: error })));
    child.stdout.on('data', (chunk: Buffer) => {
      stdoutBytes += chunk.length;
      if (stdoutBytes > maxStdout) {
        fail(new CpiProcessOutputTooLarge(`stdout exceeded ${maxStdout} bytes`));
        return;
      }
      stdout.push(chunk);
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      const lines = (stderrPartial + chunk).split('\n');
      stderrPartial = lines.pop() ?? '';
      for (const line of lines) options.onStderrLine(line);
    });
    child.on('exit', (code, exitedBy) => {
      exitCode = code;
      exitSignal = exitedBy;
      graceTimer = setTimeout(() => succeed(true), options.pipeGraceMs ?? 2000);
    });
    child.on('close', () => succeed(false));
    // A CPI that exits without reading its request makes our write fail with EPIPE: its
    // output (or lack of it) is what counts, so the write error is deliberately ignored.
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input);
  });
}

function toError(reason: unknown): Error {
  return reason instanceof Error ? reason : new Error(typeof reason === 'string' ? reason : 'aborted');
}

export function formatSeconds(ms: number): string {
  return Number.isInteger(ms / 1000) ? String(ms / 1000) : (ms / 1000).toFixed(3).replace(/0+$/, '');
}
