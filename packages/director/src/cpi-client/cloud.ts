import type { CpiInfo } from '@refit/protocol';

/** Where a CPI call writes its request/response/stderr record (the task's `cpi` log). */
export interface CpiCallLog {
  write(text: string): void;
}

export interface CpiCallOptions {
  readonly signal: AbortSignal;
  readonly log: CpiCallLog;
  /** `context.vm.stemcell.api_version`, when the call concerns a known stemcell. */
  readonly stemcellApiVersion?: number;
  /** Overrides the cloud's per-call timeout (ms) for this call, e.g. a large create_stemcell. */
  readonly timeoutMs?: number;
}

/** The director's view of one CPI (external executable, reference §2). Errors are CpiCallError. */
export interface Cloud {
  readonly name: string;
  info(options: CpiCallOptions): Promise<CpiInfo>;
  call(method: string, args: readonly unknown[], options: CpiCallOptions): Promise<unknown>;
}
