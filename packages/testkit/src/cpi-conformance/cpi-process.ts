import { spawn } from 'node:child_process';
import { z } from 'zod';
import { CpiErrorType } from '@refit/protocol';

const acceptedTypes = Object.values(CpiErrorType) as [string, ...string[]];

/** The response as strictly as the Ruby director validates it (reference §2.1), plus known types. */
export const StrictCpiResponse = z.object({
  result: z.unknown(),
  error: z
    .object({ type: z.enum(acceptedTypes), message: z.string().min(1), ok_to_retry: z.boolean() })
    .strict()
    .nullable(),
  log: z.string(),
});
export type StrictCpiResponse = z.infer<typeof StrictCpiResponse>;

export class CpiAnswerError extends Error {
  override name = 'CpiAnswerError';
  readonly type: string;
  readonly method: string;
  constructor(method: string, type: string, message: string) {
    super(`${method}: ${type}: ${message}`);
    this.type = type;
    this.method = method;
  }
}

export interface CpiProcessOptions {
  /** The CPI executable. */
  readonly command: string;
  /** Its arguments; `['--config', configPath]` for refit CPIs. */
  readonly args: readonly string[];
  readonly timeoutMs?: number;
}

/**
 * Calls a CPI as the director does: a fresh process per call with a cleared environment
 * (PATH, TMPDIR, HOME only), one JSON request on stdin, one JSON response on stdout, exit code
 * ignored.
 */
export class CpiProcess {
  readonly #options: CpiProcessOptions;
  constructor(options: CpiProcessOptions) {
    this.#options = options;
  }

  /** The raw, strictly validated response. */
  async request(method: string, args: readonly unknown[]): Promise<StrictCpiResponse> {
    const child = spawn(this.#options.command, [...this.#options.args], {
      env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', TMPDIR: process.env['TMPDIR'] ?? '/tmp', HOME: '/root' },
      stdio: ['pipe', 'pipe', 'pipe'],
      timeout: this.#options.timeoutMs ?? 120_000,
      killSignal: 'SIGKILL',
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const closed = new Promise<number | null>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', (code) => resolve(code));
    });
    const request = {
      method,
      arguments: args,
      context: { director_uuid: 'cpi-conformance', request_id: `cpi-${Math.floor(Math.random() * 1e6)}` },
      api_version: 2,
    };
    child.stdin.end(JSON.stringify(request));
    const code = await closed;
    let parsed: unknown;
    try {
      parsed = JSON.parse(stdout);
    } catch {
      throw new Error(
        `${method}: stdout is not JSON (exit ${code}): ${stdout.slice(0, 300)} stderr: ${stderr.slice(-1500)}`,
      );
    }
    return StrictCpiResponse.parse(parsed);
  }

  /** The result, or a CpiAnswerError carrying the error's type. */
  async call(method: string, args: readonly unknown[]): Promise<unknown> {
    const response = await this.request(method, args);
    if (response.error !== null)
      throw new CpiAnswerError(method, response.error.type, response.error.message);
    return response.result;
  }

  /** The error a call must fail with; throws if it succeeds. */
  async failure(method: string, args: readonly unknown[]): Promise<NonNullable<StrictCpiResponse['error']>> {
    const response = await this.request(method, args);
    if (response.error === null) {
      throw new Error(`${method} was expected to fail but returned ${JSON.stringify(response.result)}`);
    }
    return response.error;
  }
}
