import type { LocalCpiConfig } from './config.ts';
import type { StateLayout } from './state/layout.ts';

/** What every CPI method gets: the validated config, the state layout, a log and a signal. */
export interface CpiContext {
  readonly config: LocalCpiConfig;
  readonly state: StateLayout;
  readonly signal: AbortSignal;
  log(line: string): void;
}

export interface CpiMethodHandler {
  readonly method: string;
  run(ctx: CpiContext, args: readonly unknown[]): Promise<unknown>;
}
