import { z } from 'zod';

/**
 * Arguments and results of the agent's actions (reference §3.3–3.6). Each `*Args` schema parses
 * the request's `arguments` array; the agent parses at its edge and trusts the types inside.
 */

/** A blob the director names: its blobstore id, multi-digest and optional signed URL. */
export const BlobRef = z
  .object({
    blobstore_id: z.string().min(1),
    sha1: z.string().min(1),
    signed_url: z.string().url().optional(),
    blobstore_headers: z.record(z.string(), z.string()).optional(),
  })
  .passthrough();
export type BlobRef = z.infer<typeof BlobRef>;

export const ApplySpecPackage = BlobRef.extend({ name: z.string().min(1), version: z.string().min(1) });
export type ApplySpecPackage = z.infer<typeof ApplySpecPackage>;

export const ApplySpecJobTemplate = z
  .object({
    name: z.string().min(1),
    version: z.string().default(''),
    sha1: z.string().optional(),
    blobstore_id: z.string().optional(),
  })
  .passthrough();

/** The apply spec (reference §3.4). Unknown keys survive, as the director compares it whole. */
export const ApplySpec = z
  .object({
    deployment: z.string().optional(),
    job: z
      .object({
        name: z.string().optional(),
        template: z.string().optional(),
        version: z.string().optional(),
        templates: z.array(ApplySpecJobTemplate).default([]),
      })
      .passthrough()
      .nullable()
      .default({ templates: [] }),
    index: z.number().int().nullable().optional(),
    name: z.string().optional(),
    id: z.string().optional(),
    az: z.string().nullable().optional(),
    networks: z.record(z.string(), z.record(z.string(), z.unknown())).default({}),
    packages: z.record(z.string(), ApplySpecPackage).default({}),
    configuration_hash: z.string().nullable().optional(),
    persistent_disk: z.number().int().nonnegative().default(0),
    template_hashes: z.record(z.string(), z.string()).optional(),
    rendered_templates_archive: BlobRef.nullable().optional(),
  })
  .passthrough();
export type ApplySpec = z.infer<typeof ApplySpec>;

export const ApplyArgs = z.tuple([ApplySpec]);
export const PrepareArgs = z.tuple([ApplySpec]);

export const DrainArgs = z.union([
  z.tuple([z.literal('update'), ApplySpec]),
  z.tuple([z.literal('shutdown')]).rest(ApplySpec),
  z.tuple([z.literal('status')]).rest(z.unknown()),
]);
export type DrainArgs = z.infer<typeof DrainArgs>;

export const LifecycleScript = z.enum(['pre-start', 'post-start', 'post-deploy', 'pre-stop', 'post-stop']);
export type LifecycleScript = z.infer<typeof LifecycleScript>;

export const RunScriptArgs = z
  .tuple([LifecycleScript])
  .rest(z.object({ env: z.record(z.string(), z.string()).default({}) }).passthrough());
export type RunScriptArgs = z.infer<typeof RunScriptArgs>;

export const GetTaskArgs = z.tuple([z.string().min(1)]);
export const CancelTaskArgs = z.tuple([z.string().min(1)]);
export const GetStateArgs = z.union([z.tuple([]), z.tuple([z.literal('full')])]);

/** A persistent disk hint: a path, or an object carrying one (as CPIs answer `attach_disk`). */
export const DiskHint = z.union([z.string().min(1), z.object({ path: z.string().min(1) }).passthrough()]);
export type DiskHint = z.infer<typeof DiskHint>;

export const AddPersistentDiskArgs = z.tuple([z.string().min(1), DiskHint]);
export const DiskCidArgs = z.tuple([z.string().min(1)]);

export const UpdateSettingsArgs = z.tuple([
  z
    .object({
      trusted_certs: z.string().optional(),
      disk_associations: z.array(z.object({ name: z.string(), cid: z.string() })).optional(),
      blobstores: z
        .array(z.object({ provider: z.string(), options: z.record(z.string(), z.unknown()) }))
        .optional(),
      mbus: z.record(z.string(), z.unknown()).optional(),
    })
    .passthrough(),
]);
export type UpdateSettings = z.infer<typeof UpdateSettingsArgs>[0];

export const CompilePackageDependency = z
  .object({
    name: z.string().min(1),
    version: z.string().min(1),
    sha1: z.string().min(1),
    blobstore_id: z.string().min(1),
  })
  .passthrough();

export const CompilePackageArgs = z.tuple([
  z.string().min(1),
  z.string().min(1),
  z.string().min(1),
  z.string().min(1),
  z.record(z.string(), CompilePackageDependency).default({}),
]);

/** What an upload by the agent answers: compiled packages nest it under `result`. */
export const UploadedBlob = z.object({ blobstore_id: z.string(), sha1: z.string() });
export type UploadedBlob = z.infer<typeof UploadedBlob>;
export const CompilePackageResult = z.object({ result: UploadedBlob });

export const FetchLogsArgs = z.union([
  z.tuple([]),
  z.tuple([z.string()]).rest(z.array(z.string()).nullable()),
]);

export const AgentProcessState = z.enum(['running', 'starting', 'failing', 'stopped']);
export type AgentProcessState = z.infer<typeof AgentProcessState>;

export const AgentJobState = z.enum(['running', 'starting', 'failing', 'stopped', 'unknown']);
export type AgentJobState = z.infer<typeof AgentJobState>;

export const AgentProcess = z.object({
  name: z.string(),
  state: AgentProcessState,
  uptime: z.object({ secs: z.number().int() }).optional(),
  mem: z.object({ kb: z.number().int(), percent: z.number() }).optional(),
  cpu: z.object({ total: z.number() }).optional(),
});
export type AgentProcess = z.infer<typeof AgentProcess>;

const DiskVitals = z.object({ percent: z.string(), inode_percent: z.string() });

/** Vitals as BOSH reports them: numbers as strings, except uptime. */
export const AgentVitals = z.object({
  cpu: z.object({ sys: z.string(), user: z.string(), wait: z.string() }),
  disk: z.object({
    system: DiskVitals.optional(),
    ephemeral: DiskVitals.optional(),
    persistent: DiskVitals.optional(),
  }),
  load: z.tuple([z.string(), z.string(), z.string()]),
  mem: z.object({ kb: z.string(), percent: z.string() }),
  swap: z.object({ kb: z.string(), percent: z.string() }),
  uptime: z.object({ secs: z.number().int() }),
});
export type AgentVitals = z.infer<typeof AgentVitals>;

/** The booted root's identity, read from the stemcell version file and os-release. */
export const BootedStemcell = z.object({
  name: z.string().optional(),
  version: z.string(),
  os: z.string().optional(),
  /** sha256 of the booted root's root.tar, when it was staged by update_rootfs (OS reload). */
  root_digest: z.string().optional(),
  /** Identifies the boot (the boot step's boot number and time): a new value after every reboot. */
  boot_id: z.string().optional(),
});
export type BootedStemcell = z.infer<typeof BootedStemcell>;

/** `get_state` value: the stored apply spec plus the agent's own view (reference §3.4). */
export const AgentStateValue = ApplySpec.extend({
  agent_id: z.string(),
  job_state: AgentJobState,
  processes: z.array(AgentProcess),
  vm: z.object({ name: z.string() }).passthrough(),
  vitals: AgentVitals.optional(),
  stemcell: BootedStemcell.optional(),
});
export type AgentStateValue = z.infer<typeof AgentStateValue>;

/** An alert on `hm.agent.alert.<agent_id>` (reference §3.2), as the Go agent builds from monit events. */
export const AgentAlert = z.object({
  id: z.string(),
  severity: z.number().int(),
  title: z.string(),
  summary: z.string(),
  created_at: z.number().int(),
});
export type AgentAlert = z.infer<typeof AgentAlert>;
