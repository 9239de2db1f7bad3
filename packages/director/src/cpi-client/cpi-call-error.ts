import { CpiErrorType } from '@refit/protocol';
import { CpiCallFailed } from '../errors.ts';

/** Why a CPI call failed. Stable values: match on these, never on the message. */
export const CpiFailureKind = {
  /** The CPI answered with a known `error` object (see `cpiErrorType`). */
  CpiError: 'cpi_error',
  /** The CPI answered with an error type the director does not know. */
  UnknownCpiError: 'unknown_cpi_error',
  /** stdout was not a valid response (not JSON, wrong fields, empty: a crash). */
  InvalidResponse: 'invalid_response',
  /** The call ran past its timeout; the CPI's process group was killed. */
  Timeout: 'timeout',
  /** The executable could not be started (missing, not executable). */
  SpawnFailed: 'spawn_failed',
  /** `info` says the CPI cannot be used (api_version missing or too old). */
  Unsupported: 'unsupported',
} as const;
export type CpiFailureKind = (typeof CpiFailureKind)[keyof typeof CpiFailureKind];

export interface CpiCallErrorDetails {
  readonly kind: CpiFailureKind;
  readonly method: string;
  readonly requestId: string | null;
  /** The CPI's `error.type` (e.g. `Bosh::Clouds::VMNotFound`), when it answered with one. */
  readonly cpiErrorType?: string;
  /** The CPI's `error.message`, when it answered with one. */
  readonly cpiMessage?: string;
  readonly okToRetry?: boolean;
}

/**
 * A failed CPI call (director error 100200, HTTP 500). `kind` says why; for errors the CPI
 * reported, `cpiErrorType`, `cpiMessage` and `okToRetry` carry its answer. An instance of
 * `CpiCallFailed` too, so code matching the numbered error keeps working.
 */
export class CpiCallError extends CpiCallFailed {
  readonly kind: CpiFailureKind;
  readonly method: string;
  readonly requestId: string | null;
  readonly cpiErrorType: string | null;
  readonly cpiMessage: string | null;
  readonly okToRetry: boolean;

  constructor(message: string, details: CpiCallErrorDetails, options?: ErrorOptions) {
    super(message, options);
    this.kind = details.kind;
    this.method = details.method;
    this.requestId = details.requestId;
    this.cpiErrorType = details.cpiErrorType ?? null;
    this.cpiMessage = details.cpiMessage ?? null;
    this.okToRetry = details.okToRetry ?? false;
  }

  /** True when the CPI does not implement the method (callers may swallow it, e.g. has_disk). */
  get notImplemented(): boolean {
    return this.cpiErrorType === CpiErrorType.NotImplemented;
  }
}

/**
 * The CPI does not implement the method: `Bosh::Clouds::NotImplemented`, or the older answers
 * the Ruby director maps to it (`InvalidCall` "Method is not known, got…", `CloudError`
 * "Invalid Method:…"). `cpiErrorType` is always `Bosh::Clouds::NotImplemented`.
 */
export class CpiNotImplementedError extends CpiCallError {}

const knownErrorTypes: ReadonlySet<string> = new Set(Object.values(CpiErrorType));

/** The typed error for a CPI's `error` answer, with the Ruby director's message wording. */
export function errorFromCpiAnswer(
  answer: { readonly type: string; readonly message: string; readonly ok_to_retry: boolean },
  method: string,
  requestId: string,
): CpiCallError {
  const suffix = `with message '${answer.message}' in '${method}' CPI method (CPI request ID: '${requestId}')`;
  const base = { method, requestId, cpiMessage: answer.message, okToRetry: answer.ok_to_retry };
  const legacyNotImplemented =
    (answer.type === 'InvalidCall' && answer.message.startsWith('Method is not known, got')) ||
    (answer.type === CpiErrorType.CloudError && answer.message.startsWith('Invalid Method:'));
  if (answer.type === CpiErrorType.NotImplemented || legacyNotImplemented) {
    return new CpiNotImplementedError(`CPI error '${answer.type}' ${suffix}`, {
      ...base,
      kind: CpiFailureKind.CpiError,
      cpiErrorType: CpiErrorType.NotImplemented,
    });
  }
  if (!knownErrorTypes.has(answer.type)) {
    return new CpiCallError(`Unknown CPI error '${answer.type}' ${suffix}`, {
      ...base,
      kind: CpiFailureKind.UnknownCpiError,
      cpiErrorType: answer.type,
    });
  }
  return new CpiCallError(`CPI error '${answer.type}' ${suffix}`, {
    ...base,
    kind: CpiFailureKind.CpiError,
    cpiErrorType: answer.type,
  });
}
