import { setTimeout as sleep } from 'node:timers/promises';
import { CpiErrorType, CpiRequest, type CpiResponse } from '@refit/protocol';
import type { LocalCpiConfig } from './config.ts';
import type { CpiContext } from './context.ts';
import { CpiFailure } from './cpi-failure.ts';
import { loadCpiMethod, notSupported } from './methods/index.ts';
import { StateLayout } from './state/layout.ts';

function failure(error: unknown): CpiResponse['error'] {
  if (error instanceof CpiFailure)
    return { type: error.type, message: error.message, ok_to_retry: error.okToRetry };
  const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return { type: CpiErrorType.CloudError, message, ok_to_retry: false };
}

/** One request in, one response out: errors become `{"error":{...}}`, never an exception. */
export async function handleRequest(
  config: LocalCpiConfig | Error,
  input: string,
  signal: AbortSignal,
): Promise<CpiResponse> {
  const log: string[] = [];
  const started = Date.now();
  try {
    let raw: unknown;
    try {
      raw = JSON.parse(input);
    } catch {
      throw new CpiFailure(CpiErrorType.CpiError, 'request on stdin is not JSON');
    }
    const request = CpiRequest.safeParse(raw);
    if (!request.success)
      throw new CpiFailure(CpiErrorType.CpiError, 'request is not a CPI request (method, arguments)');
    const { method, arguments: args } = request.data;
    if (config instanceof Error) throw CpiFailure.cloud(config.message, { cause: config });
    const handler = await loadCpiMethod(method);
    if (handler === null) {
      if (notSupported.has(method)) {
        throw new CpiFailure(
          CpiErrorType.NotSupported,
          `method '${method}' is not supported by refit-cpi-local`,
        );
      }
      throw CpiFailure.notImplemented(method);
    }
    const ctx: CpiContext = {
      config,
      state: new StateLayout(config.stateDir),
      signal,
      log: (line) => log.push(`${new Date().toISOString()} ${line}`),
    };
    const delay = config.delays[method] ?? 0;
    if (delay > 0) await sleep(delay, undefined, { signal });
    const result = await handler.run(ctx, args);
    log.push(`${method} done in ${Date.now() - started} ms`);
    return { result: result ?? null, error: null, log: log.join('\n') };
  } catch (error) {
    return { result: null, error: failure(error), log: log.join('\n') };
  }
}
