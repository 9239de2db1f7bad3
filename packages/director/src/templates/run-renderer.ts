import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { TemplateRendererAnswer } from '@refit/protocol';
import { TemplateRendererFailed } from './template-errors.ts';

/** The Ruby side: `ruby renderer.rb`, JSON on stdin, JSON on stdout. */
export const RENDERER_RB = fileURLToPath(new URL('./renderer.rb', import.meta.url));

export interface RendererOptions {
  /** The Ruby executable (default `ruby`, found on PATH). */
  readonly ruby?: string;
  /** Per call (default 30 s): a template that loops forever is killed. */
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

export interface RendererRequest {
  readonly job: string;
  readonly templates: readonly { readonly source: string; readonly contents: string }[];
  /** BOSH's template spec, snake_case, with `properties` and `links`. */
  readonly context: Readonly<Record<string, unknown>>;
}

const MAX_OUTPUT = 256 * 1024 * 1024;

/**
 * Runs the renderer once as a child process (no shell, a minimal environment, stdin/stdout
 * only). Aborting the signal or the timeout kills it (SIGKILL).
 */
export async function runRenderer(
  request: RendererRequest,
  options: RendererOptions = {},
): Promise<TemplateRendererAnswer> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const signals = [AbortSignal.timeout(timeoutMs), ...(options.signal ? [options.signal] : [])];
  const signal = AbortSignal.any(signals);
  const ruby = options.ruby ?? 'ruby';
  const child = spawn(ruby, ['-E', 'UTF-8:UTF-8', RENDERER_RB], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C.UTF-8', HOME: '/nonexistent' },
    signal,
    killSignal: 'SIGKILL',
  });
  const stdout: Buffer[] = [];
  let stdoutSize = 0;
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdoutSize += chunk.length;
    if (stdoutSize > MAX_OUTPUT) child.kill('SIGKILL');
    else stdout.push(chunk);
  });
  child.stderr.on('data', (chunk: Buffer) => {
    if (stderr.length < 64 * 1024) stderr += chunk.toString('utf8');
  });
  child.stdin.on('error', () => undefined); // a child that dies early: reported by 'close' below
  child.stdin.end(JSON.stringify(request));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', (error: NodeJS.ErrnoException) => {
      if (signal.aborted) return; // 'close' follows
      reject(
        new TemplateRendererFailed(
          error.code === 'ENOENT'
            ? `Cannot render job templates: '${ruby}' was not found (install Ruby)`
            : `Cannot run the template renderer: ${error.message}`,
          { cause: error },
        ),
      );
    });
    child.once('close', (exitCode) => resolve(exitCode));
  });
  options.signal?.throwIfAborted();
  if (signal.aborted) {
    throw new TemplateRendererFailed(
      `Rendering templates of job '${request.job}' took longer than ${timeoutMs} ms`,
    );
  }
  if (code !== 0) {
    throw new TemplateRendererFailed(
      `The template renderer failed for job '${request.job}' (exit ${code}): ${stderr.trim().split('\n').slice(-3).join(' ')}`,
    );
  }
  let answer: unknown;
  try {
    answer = JSON.parse(Buffer.concat(stdout).toString('utf8'));
  } catch (error) {
    throw new TemplateRendererFailed(`The template renderer answered with something that is not JSON`, {
      cause: error,
    });
  }
  const parsed = TemplateRendererAnswer.safeParse(answer);
  if (!parsed.success)
    throw new TemplateRendererFailed(`The template renderer's answer is malformed: ${parsed.error.message}`);
  return parsed.data;
}
