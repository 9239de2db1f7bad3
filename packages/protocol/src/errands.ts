import { z } from 'zod';

/** Output the agent keeps of each stream of an errand (its tail), as BOSH's agent truncates. */
export const ERRAND_OUTPUT_LIMIT = 10 * 1024;

/** `run_errand` takes nothing (the spec's first job with a `bin/run`) or the errand job's name. */
export const RunErrandArgs = z.union([z.tuple([]), z.tuple([z.string().min(1)])]);
export type RunErrandArgs = z.infer<typeof RunErrandArgs>;

/** What `run_errand` answers once the script has exited. */
export const RunErrandResult = z
  .object({ exit_code: z.number().int(), stdout: z.string(), stderr: z.string() })
  .passthrough();
export type RunErrandResult = z.infer<typeof RunErrandResult>;

/** `POST /deployments/:d/errands/:name/runs` body (bosh-cli's director/errand.go). */
export const ErrandRunRequest = z
  .object({
    keep_alive: z.boolean().default(false),
    when_changed: z.boolean().default(false),
    instances: z
      .array(z.object({ group: z.string().min(1), id: z.string().default('') }).passthrough())
      .default([]),
  })
  .passthrough();
export type ErrandRunRequest = z.infer<typeof ErrandRunRequest>;

/** One JSON line of a `run errand` task's result. */
export const ErrandRunResultLine = z
  .object({
    exit_code: z.number().int(),
    stdout: z.string(),
    stderr: z.string(),
    logs: z.object({ blobstore_id: z.string().nullable().optional() }).passthrough().default({}),
    instance: z.object({ group: z.string(), id: z.string() }).passthrough(),
    errand_name: z.string(),
  })
  .passthrough();
export type ErrandRunResultLine = z.infer<typeof ErrandRunResultLine>;

/** `GET /deployments/:d/errands`: one entry per errand name. */
export const ErrandListEntry = z.object({ name: z.string() }).passthrough();
export type ErrandListEntry = z.infer<typeof ErrandListEntry>;
