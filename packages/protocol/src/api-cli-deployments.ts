import { z } from 'zod';

/*
 * Release, deployment and instance responses as a client reads them (the refit CLI). Lenient as
 * the stock Go CLI: missing or null fields become empty values, unknown fields are ignored, and
 * only wrong types (or an empty version, which the stock CLI refuses) fail.
 */

const optionalString = z.string().nullish();
const nonEmptyVersion = z.string().min(1, 'Expected version to be non-empty string');

/** `GET /releases` element. */
export const ReleaseAsRead = z.object({
  name: z.string(),
  release_versions: z
    .array(
      z.object({
        version: nonEmptyVersion,
        commit_hash: optionalString,
        uncommitted_changes: z.boolean().nullish(),
        currently_deployed: z.boolean().nullish(),
        job_names: z.array(z.string()).nullish(),
      }),
    )
    .nullish(),
});
export type ReleaseAsRead = z.infer<typeof ReleaseAsRead>;

const NameVersionAsRead = z.object({ name: optionalString, version: nonEmptyVersion });

/** `GET /deployments` element (teams are strings; releases and stemcells `{name, version}`). */
export const DeploymentAsRead = z.object({
  name: z.string(),
  releases: z.array(NameVersionAsRead).nullish(),
  stemcells: z.array(NameVersionAsRead).nullish(),
  teams: z.array(z.string()).nullish(),
  cloud_config: optionalString,
  locked: z.boolean().nullish(),
});
export type DeploymentAsRead = z.infer<typeof DeploymentAsRead>;

/** `GET /deployments/<name>`. */
export const DeploymentManifestAsRead = z.object({ manifest: optionalString });

/**
 * `POST /deployments/<name>/diff`: `context` is sent back as the deploy's `context` query
 * parameter; each diff entry is `[line, "added" | "removed" | null]`.
 */
export const DeploymentDiffAsRead = z.object({
  context: z.record(z.string(), z.unknown()).nullish(),
  diff: z.array(z.tuple([z.string(), z.string().nullable()])).nullish(),
  error: optionalString,
});
export type DeploymentDiffAsRead = z.infer<typeof DeploymentDiffAsRead>;

const ProcessAsRead = z.object({
  name: optionalString,
  state: optionalString,
  uptime: z.object({ secs: z.number().nullish() }).nullish(),
  mem: z.object({ kb: z.number().nullish(), percent: z.number().nullish() }).nullish(),
  cpu: z.object({ total: z.number().nullish() }).nullish(),
});

const KbPercent = z.object({ kb: optionalString, percent: optionalString }).nullish();
const DiskUsage = z.object({ percent: optionalString, inode_percent: optionalString }).nullish();

const VitalsAsRead = z.object({
  cpu: z.object({ sys: optionalString, user: optionalString, wait: optionalString }).nullish(),
  mem: KbPercent,
  swap: KbPercent,
  load: z.array(z.string()).nullish(),
  uptime: z.object({ secs: z.number().nullish() }).nullish(),
  disk: z.object({ system: DiskUsage, ephemeral: DiskUsage, persistent: DiskUsage }).nullish(),
});

/**
 * One line of the `result` output of `GET /deployments/<d>/vms?format=full` and
 * `/instances?format=full` (newline-delimited JSON). `stemcell` is what the director recorded for
 * the VM; Refit adds `booted_stemcell`, what the agent reports from the root it booted (version
 * and `root_digest`).
 */
export const VmInfoAsRead = z.object({
  agent_id: optionalString,
  job_name: optionalString,
  id: optionalString,
  index: z.number().int().nullish(),
  job_state: optionalString,
  state: optionalString,
  active: z.boolean().nullish(),
  bootstrap: z.boolean().nullish(),
  ignore: z.boolean().nullish(),
  resurrection_paused: z.boolean().nullish(),
  ips: z.array(z.string()).nullish(),
  dns: z.array(z.string()).nullish(),
  az: optionalString,
  vm_cid: optionalString,
  vm_type: optionalString,
  resource_pool: optionalString,
  disk_cid: optionalString,
  disk_cids: z.array(z.string()).nullish(),
  vm_created_at: optionalString,
  processes: z.array(ProcessAsRead).nullish(),
  vitals: VitalsAsRead.nullish(),
  stemcell: z
    .object({
      name: optionalString,
      version: optionalString,
      api_version: z.number().nullish(),
      root_digest: optionalString,
    })
    .nullish(),
  booted_stemcell: z
    .object({
      name: optionalString,
      version: optionalString,
      os: optionalString,
      root_digest: optionalString,
    })
    .nullish(),
});
export type VmInfoAsRead = z.infer<typeof VmInfoAsRead>;

/**
 * One line of a dry-run deploy task's `result` output (Refit's plan summary): what the rollout
 * would do to one instance. `download_bytes` is what a reloaded VM would fetch (the generic
 * stemcell), null or absent otherwise.
 */
export const DeployPlanRowAsRead = z.object({
  instance: z.string(),
  az: optionalString,
  action: optionalString,
  strategy: optionalString,
  reason: optionalString,
  download_bytes: z.number().nullish(),
});
export type DeployPlanRowAsRead = z.infer<typeof DeployPlanRowAsRead>;

/** `POST /packages/matches`: fingerprints the director already has. */
export const PackageMatchesAsRead = z.array(z.string());

/**
 * Refit's `POST /deployments` and `PUT /deployments/<d>/jobs/...` query parameter choosing how a
 * changed stemcell is rolled out (`reload` | `recreate`); overrides the manifest's
 * `update.stemcell_strategy`. (refit-director also reads `update_stemcell_strategy`.)
 */
export const STEMCELL_STRATEGY_QUERY = 'strategy';
