import { z } from 'zod';

/**
 * How a method misbehaves: `crash` (uncaught exception, no stdout, exit 1), `garbage` (non-JSON
 * stdout), `bad_schema` (JSON without the response fields), `hang` (never answers; also starts a
 * `sleep` grandchild whose pid goes to `<state_dir>/hang-<method>.pid`, to prove the whole
 * process group is killed), `cloud_error` (Bosh::Clouds::CloudError, ok_to_retry false),
 * `retryable_error` (Bosh::Clouds::CloudError, ok_to_retry true), `not_implemented`.
 */
export const TestCpiFaultKind = z.enum([
  'crash',
  'garbage',
  'bad_schema',
  'hang',
  'cloud_error',
  'retryable_error',
  'not_implemented',
]);
export type TestCpiFaultKind = z.infer<typeof TestCpiFaultKind>;

/** A fault for every call of the method, or (`times`) only for its first N calls. */
export const TestCpiFault = z.union([
  TestCpiFaultKind,
  z.object({ fault: TestCpiFaultKind, times: z.number().int().positive().optional() }),
]);
export type TestCpiFault = z.infer<typeof TestCpiFault>;

/** The test CPI's config file (`test-cpi --config FILE`). */
export const TestCpiConfig = z.object({
  state_dir: z.string(),
  stemcell_formats: z.array(z.string()).default(['general-tar']),
  /** `null` makes `info` omit api_version (a CPI the director must refuse). */
  api_version: z.number().int().nullable().default(2),
  faults: z.record(z.string(), TestCpiFault).default({}),
});
/** The config as written (defaults optional). */
export type TestCpiConfig = z.input<typeof TestCpiConfig>;
/** The config once parsed, defaults applied. */
export type TestCpiSettings = z.output<typeof TestCpiConfig>;

/** One line of `<state_dir>/calls.jsonl`: what the CPI received, and the environment it saw. */
export interface TestCpiCallRecord {
  readonly method: string;
  readonly arguments: unknown[];
  readonly context: Record<string, unknown>;
  readonly api_version?: number;
  readonly env: Record<string, string>;
}
