import { z } from 'zod';

/**
 * Deployment manifest v2 (reference §4.1), as the operator writes it. Every object is strict:
 * an unknown key is an error naming its path. Cross-checks against the cloud config, the
 * uploaded releases and stemcells live in the director (`manifests/`), not here.
 */

const Name = z.string().min(1);
const Hash = z.record(z.string(), z.unknown());
/** Versions may be YAML numbers (`version: 1.1`); BOSH reads them as strings. */
const Version = z.union([z.string().min(1), z.number()]).transform((v) => String(v));

/** `3` or `"3"` or `"25%"`. */
export const CountOrPercent = z.union([
  z.number().int().nonnegative(),
  z.string().regex(/^\s*\d+%?\s*$/, "must be an integer or a percentage such as '25%'"),
]);
export type CountOrPercent = z.infer<typeof CountOrPercent>;

/** `"30000"`, `30000` or `"1000-30000"`: milliseconds, one value or a min-max range. */
export const WatchTime = z.union([
  z.number().int().nonnegative(),
  z.string().regex(/^\s*\d+\s*(-\s*\d+\s*)?$/, "must be milliseconds ('30000') or a range ('1000-30000')"),
]);
export type WatchTime = z.infer<typeof WatchTime>;

export const StemcellStrategyName = z.enum(['recreate', 'reload']);
export type StemcellStrategyName = z.infer<typeof StemcellStrategyName>;

const updateShape = {
  canaries: CountOrPercent,
  max_in_flight: CountOrPercent,
  canary_watch_time: WatchTime,
  update_watch_time: WatchTime,
  serial: z.boolean(),
  vm_strategy: z.enum(['delete-create', 'create-swap-delete']),
  initial_deploy_az_update_strategy: z.enum(['serial', 'parallel']),
  /** Refit: replace the OS of a VM by recreating it (BOSH's way) or by reloading its root. */
  stemcell_strategy: StemcellStrategyName,
  /** Refit: what to do with an instance whose reload failed. */
  reload_fallback: z.enum(['fail', 'recreate']),
};

/** The deployment-wide `update` block: the four timing/parallelism keys are required. */
export const ManifestUpdate = z
  .object({
    ...updateShape,
    serial: updateShape.serial.optional(),
    vm_strategy: updateShape.vm_strategy.optional(),
    initial_deploy_az_update_strategy: updateShape.initial_deploy_az_update_strategy.optional(),
    stemcell_strategy: updateShape.stemcell_strategy.optional(),
    reload_fallback: updateShape.reload_fallback.optional(),
  })
  .strict();
export type ManifestUpdate = z.infer<typeof ManifestUpdate>;

/** An instance group's `update`: overrides the deployment's key by key. */
export const ManifestGroupUpdate = z.object(updateShape).partial().strict();
export type ManifestGroupUpdate = z.infer<typeof ManifestGroupUpdate>;

export const ManifestRelease = z
  .object({
    name: Name,
    version: Version,
    url: z.string().min(1).optional(),
    sha1: z.string().min(1).optional(),
    stemcell: z.object({ os: Name, version: Version }).strict().optional(),
    exported_from: z.array(z.object({ os: Name, version: Version }).strict()).optional(),
  })
  .strict();
export type ManifestRelease = z.infer<typeof ManifestRelease>;

export const ManifestStemcell = z
  .object({ alias: Name, os: Name.optional(), name: Name.optional(), version: Version })
  .strict();
export type ManifestStemcell = z.infer<typeof ManifestStemcell>;

export const ManifestJob = z
  .object({
    name: Name,
    release: Name,
    properties: Hash.optional(),
    consumes: Hash.optional(),
    provides: Hash.optional(),
    custom_provider_definitions: z.array(Hash).optional(),
  })
  .strict();
export type ManifestJob = z.infer<typeof ManifestJob>;

export const ManifestInstanceGroupNetwork = z
  .object({
    name: Name,
    static_ips: z.array(z.string().min(1)).optional(),
    default: z.array(z.enum(['dns', 'gateway', 'addressable'])).optional(),
  })
  .strict();
export type ManifestInstanceGroupNetwork = z.infer<typeof ManifestInstanceGroupNetwork>;

export const VmResources = z
  .object({
    cpu: z.number().int().positive(),
    ram: z.number().int().positive(),
    ephemeral_disk_size: z.number().int().positive(),
  })
  .strict();
export type VmResources = z.infer<typeof VmResources>;

export const ManifestInstanceGroup = z
  .object({
    name: Name,
    azs: z.array(Name).optional(),
    instances: z.number().int().nonnegative(),
    jobs: z.array(ManifestJob),
    vm_type: Name.optional(),
    vm_resources: VmResources.optional(),
    vm_extensions: z.array(Name).optional(),
    stemcell: Name,
    persistent_disk: z.number().int().nonnegative().optional(),
    persistent_disk_type: Name.optional(),
    networks: z.array(ManifestInstanceGroupNetwork).min(1),
    update: ManifestGroupUpdate.optional(),
    env: Hash.optional(),
    lifecycle: z.enum(['service', 'errand']).optional(),
    migrated_from: z.array(z.object({ name: Name, az: Name.optional() }).strict()).optional(),
    tags: z.record(z.string(), z.string()).optional(),
  })
  .strict();
export type ManifestInstanceGroup = z.infer<typeof ManifestInstanceGroup>;

export const ManifestVariable = z
  .object({
    name: Name,
    type: Name,
    options: Hash.optional(),
    consumes: Hash.optional(),
    update_mode: z.string().optional(),
  })
  .strict();
export type ManifestVariable = z.infer<typeof ManifestVariable>;

export const ManifestFeatures = z
  .object({
    use_dns_addresses: z.boolean(),
    use_short_dns_addresses: z.boolean(),
    use_link_dns_names: z.boolean(),
    randomize_az_placement: z.boolean(),
    converge_variables: z.boolean(),
    use_tmpfs_config: z.boolean(),
  })
  .partial()
  .strict();
export type ManifestFeatures = z.infer<typeof ManifestFeatures>;

export const DeploymentManifest = z
  .object({
    name: Name,
    director_uuid: z.string().optional(),
    releases: z.array(ManifestRelease),
    stemcells: z.array(ManifestStemcell).optional(),
    update: ManifestUpdate,
    instance_groups: z.array(ManifestInstanceGroup),
    properties: Hash.optional(),
    tags: z.record(z.string(), z.string()).optional(),
    variables: z.array(ManifestVariable).optional(),
    features: ManifestFeatures.optional(),
    addons: z.array(Hash).optional(),
  })
  .strict();
export type DeploymentManifest = z.infer<typeof DeploymentManifest>;
