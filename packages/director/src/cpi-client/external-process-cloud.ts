import { randomInt } from 'node:crypto';
import { tmpdir } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { CpiInfo, CpiResponse } from '@refit/protocol';
import type { Cloud, CpiCallOptions } from './cloud.ts';
import { CpiCallError, CpiFailureKind, errorFromCpiAnswer } from './cpi-call-error.ts';
import { redactSecrets } from './redact-secrets.ts';
import {
  CpiProcessOutputTooLarge,
  CpiProcessSpawnFailed,
  CpiProcessTimeout,
  formatSeconds,
  runCpiProcess,
  type CpiProcessResult,
} from './run-cpi-process.ts';

/** The only PATH a CPI gets (reference §2.1): the director's environment never leaks in. */
export const CPI_PATH = '/usr/sbin:/usr/bin:/sbin:/bin';

export interface ExternalProcessCloudOptions {
  /** The CPI's name as the API shows it (`""` for the default CPI). */
  readonly name: string;
  /** Absolute path of the CPI executable. */
  readonly command: string;
  /** Arguments for every call, e.g. `['--config', '/var/vcap/jobs/cpi/config/cpi.json']`. */
  readonly args?: readonly string[];
  readonly directorUuid: string;
  /** Per-call timeout unless the call gives its own; default 10 minutes. */
  readonly timeoutMs?: number;
  /** Calls answered with `ok_to_retry: true`: total attempts (default 3) and base backoff. */
  readonly retry?: { readonly attempts: number; readonly backoffMs: number };
  /** Top-level `api_version` of each request (the negotiated CPI contract); default 2. */
  readonly apiVersion?: number;
  /** Extra `context` properties (a CPI config's properties); redacted in the log. */
  readonly contextProperties?: Readonly<Record<string, unknown>>;
  /** TMPDIR and HOME given to the CPI; default: the director's own. */
  readonly tmpDir?: string;
  readonly home?: string;
}

/**
 * The `Cloud` port over an external CPI executable (reference §2.1): one process per call, a
 * cleared environment, one JSON request on stdin, the response parsed strictly from stdout
 * (exit code ignored). Every attempt is recorded in the call's `CpiCallLog` (request with
 * secrets redacted, the CPI's stderr and `log`, response, duration). Failures are
 * `CpiCallError`; an aborted call kills the CPI and rejects with the signal's reason.
 */
export class ExternalProcessCloud implements Cloud {
  readonly name: string;
  private readonly options: ExternalProcessCloudOptions;

  constructor(options: ExternalProcessCloudOptions) {
    this.name = options.name;
    this.options = options;
  }

  /** Calls `info` and parses its result; check it with `checkCpiInfo`. */
  async info(options: CpiCallOptions): Promise<CpiInfo> {
    const result = await this.call('info', [], options);
    const parsed = CpiInfo.safeParse(result);
    if (!parsed.success) {
      throw new CpiCallError(
        `Invalid CPI response - 'info' result is not a CPI info: ${parsed.error.message}`,
        {
          kind: CpiFailureKind.InvalidResponse,
          method: 'info',
          requestId: null,
        },
      );
    }
    return parsed.data;
  }

  /** One CPI method call, retried while the CPI answers `ok_to_retry: true` (bounded). */
  async call(method: string, args: readonly unknown[], options: CpiCallOptions): Promise<unknown> {
    const { attempts, backoffMs } = this.options.retry ?? { attempts: 3, backoffMs: 500 };
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.callOnce(method, args, options);
      } catch (error) {
        if (!(error instanceof CpiCallError) || !error.okToRetry || attempt >= attempts) throw error;
        const delay = backoffMs * attempt;
        options.log.write(
          `[${error.requestId ?? '?'}] CPI asked to retry '${method}': attempt ${attempt + 1} of ${attempts} in ${formatSeconds(delay)} s\n`,
        );
        await sleep(delay, undefined, { signal: options.signal });
      }
    }
  }

  private async callOnce(
    method: string,
    args: readonly unknown[],
    options: CpiCallOptions,
  ): Promise<unknown> {
    const requestId = `cpi-${randomInt(100000, 1000000)}`;
    const extra = this.options.contextProperties ?? {};
    const context: Record<string, unknown> = {
      director_uuid: this.options.directorUuid,
      request_id: requestId,
    };
    if (options.stemcellApiVersion !== undefined) {
      context['vm'] = { stemcell: { api_version: options.stemcellApiVersion } };
    }
    const apiVersion = this.options.apiVersion ?? 2;
    const request = { method, arguments: args, context: { ...context, ...extra }, api_version: apiVersion };
    const redactedContext = {
      ...context,
      ...Object.fromEntries(Object.keys(extra).map((k) => [k, '<redacted>'])),
    };
    const redacted = { ...request, arguments: redactSecrets(args), context: redactedContext };
    const { log } = options;
    const commandLine = [this.options.command, ...(this.options.args ?? [])].join(' ');
    log.write(`[${requestId}] request: ${JSON.stringify(redacted)} with command: ${commandLine}\n`);

    const timeoutMs = options.timeoutMs ?? this.options.timeoutMs ?? 600_000;
    const fail = (kind: CpiFailureKind, message: string, cause?: unknown) =>
      new CpiCallError(
        `${message} in '${method}' CPI method (CPI request ID: '${requestId}')`,
        { kind, method, requestId },
        { cause },
      );

    let run: CpiProcessResult;
    try {
      run = await runCpiProcess({
        command: this.options.command,
        args: this.options.args ?? [],
        env: this.environment(),
        input: JSON.stringify(request),
        timeoutMs,
        signal: options.signal,
        onStderrLine: (line) => log.write(`${line}\n`),
      });
    } catch (error) {
      if (error instanceof CpiProcessTimeout) {
        log.write(`[${requestId}] CPI timed out after ${formatSeconds(timeoutMs)} s: killed\n`);
        throw fail(
          CpiFailureKind.Timeout,
          `CPI '${this.describe()}' timed out after ${formatSeconds(timeoutMs)} s`,
          error,
        );
      }
      if (error instanceof CpiProcessSpawnFailed) {
        log.write(`[${requestId}] failed to run CPI: ${error.message}\n`);
        throw fail(
          CpiFailureKind.SpawnFailed,
          `Failed to run cpi '${this.options.command}': ${error.message}`,
          error,
        );
      }
      if (error instanceof CpiProcessOutputTooLarge) {
        throw fail(CpiFailureKind.InvalidResponse, `Invalid CPI response - ${error.message}`, error);
      }
      log.write(`[${requestId}] cancelled: CPI killed\n`);
      throw error;
    }

    const exit = run.exitSignal === null ? `exit status ${run.exitCode}` : `killed by ${run.exitSignal}`;
    const took = `took ${(run.durationMs / 1000).toFixed(3)} s, ${exit}`;
    if (run.pipesLeftOpen)
      log.write(`[${requestId}] CPI exited but something it started kept its output open\n`);
    const response = parseResponse(run.stdout);
    if (!response.ok) {
      log.write(`[${requestId}] invalid response (${took}): ${preview(run.stdout)}\n`);
      const output =
        run.stdout.length === 0 ? `no output (${exit})` : `stdout began with ${preview(run.stdout)}`;
      throw fail(CpiFailureKind.InvalidResponse, `Invalid CPI response - ${response.problem}; ${output}`);
    }
    const { result, error, log: cpiLog } = response.value;
    if (cpiLog !== '') log.write(cpiLog.endsWith('\n') ? cpiLog : `${cpiLog}\n`);
    log.write(`[${requestId}] response: ${JSON.stringify(redactSecrets({ result, error }))} (${took})\n`);
    if (error !== null) throw errorFromCpiAnswer(error, method, requestId);
    return result;
  }

  private environment(): Record<string, string> {
    const home = this.options.home ?? process.env['HOME'];
    return {
      PATH: CPI_PATH,
      TMPDIR: this.options.tmpDir ?? process.env['TMPDIR'] ?? tmpdir(),
      ...(home === undefined ? {} : { HOME: home }),
    };
  }

  private describe(): string {
    return this.name === '' ? this.options.command : this.name;
  }
}

type Parsed = { ok: true; value: CpiResponse } | { ok: false; problem: string };

function parseResponse(stdout: Buffer): Parsed {
  let json: unknown;
  try {
    json = JSON.parse(stdout.toString('utf8'));
  } catch (error) {
    return { ok: false, problem: `ParserError: ${error instanceof Error ? error.message : String(error)}` };
  }
  const parsed = CpiResponse.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    return { ok: false, problem: `SchemaValidationError: ${issues}` };
  }
  return { ok: true, value: parsed.data };
}

function preview(stdout: Buffer): string {
  const limit = 200;
  const head = stdout.subarray(0, limit).toString('utf8');
  return JSON.stringify(head) + (stdout.length > limit ? ` … (${stdout.length} bytes)` : '');
}
