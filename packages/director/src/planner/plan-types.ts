import type { Hash } from '../manifests/compile-cloud-config.ts';
import type { CompiledInstanceGroup, ResolvedStemcell } from '../manifests/compile-manifest.ts';
import type { Amount, CompiledUpdate, StemcellStrategy, VmStrategy } from '../manifests/update-config.ts';

/** BOSH's change names (reference §4.2, `instance_plan.rb#changes`), in BOSH's order. */
export const Change = {
  dirty: 'dirty',
  restart: 'restart',
  recreate: 'recreate',
  recreatePersistentDisks: 'recreate_persistent_disks',
  cloudProperties: 'cloud_properties',
  stemcell: 'stemcell',
  env: 'env',
  network: 'network',
  packages: 'packages',
  persistentDisk: 'persistent_disk',
  configuration: 'configuration',
  job: 'job',
  state: 'state',
  dns: 'dns',
  trustedCerts: 'trusted_certs',
  blobstoreConfig: 'blobstore_config',
  natsConfig: 'nats_config',
  tags: 'tags',
} as const;
export type Change = (typeof Change)[keyof typeof Change];
export const changeOrder: readonly Change[] = Object.values(Change);

/** Changes that need a new VM (besides obsolete instances). */
export const vmReplacingChanges: ReadonlySet<Change> = new Set([
  Change.cloudProperties,
  Change.stemcell,
  Change.env,
  Change.recreate,
  Change.network,
]);

export type InstanceState = 'started' | 'stopped' | 'detached';

/** `PUT /deployments/<d>/jobs/<ig>/<id>?state=…` (reference §1.10). */
export type StateOverride = 'started' | 'stopped' | 'detached' | 'restart' | 'recreate';

export interface StemcellRef {
  readonly name: string;
  readonly version: string;
}

/** One network as the VM sees it (BOSH's spec `networks.<name>`, camelCase). */
export interface NetworkSetting {
  readonly type: 'manual' | 'dynamic' | 'vip';
  /** Dotted IPv4, or null for a dynamic network (the IaaS picks it). */
  readonly ip: string | null;
  readonly netmask: string | null;
  readonly gateway: string | null;
  readonly dns: readonly string[];
  readonly default: readonly string[];
  readonly cloudProperties: Hash;
}
export type NetworkSettings = Readonly<Record<string, NetworkSetting>>;

export interface CurrentVm {
  readonly cid: string;
  readonly agentId: string;
  readonly stemcell: StemcellRef;
  /** The merged cloud properties the VM was created with. */
  readonly cloudProperties: Hash;
  /** The instance group `env` the VM was created with. */
  readonly env: Hash;
  readonly networkSettings: NetworkSettings;
  /** ISO 8601. */
  readonly createdAt: string;
}

/** Hashes of what was last applied to the instance; null when never applied. */
export interface AppliedHashes {
  readonly packages: string | null;
  readonly job: string | null;
  readonly configuration: string | null;
  readonly trustedCerts?: string | null;
  readonly blobstoreConfig?: string | null;
  readonly natsConfig?: string | null;
}

export interface CurrentDisk {
  readonly cid: string;
  readonly size: number;
  readonly cloudProperties: Hash;
}

/** An instance as the database knows it (plus what the director learnt from its agent). */
export interface CurrentInstance {
  readonly id: string;
  readonly group: string;
  readonly index: number;
  readonly az: string | null;
  readonly state: InstanceState;
  readonly vm: CurrentVm | null;
  readonly hashes: AppliedHashes;
  readonly disk: CurrentDisk | null;
  readonly tags: Readonly<Record<string, string>> | null;
  /** false when the last update of this instance did not finish (BOSH's dirty flag). */
  readonly updateCompleted: boolean;
  /** false when the agent did not answer; null when not asked. */
  readonly agentResponsive: boolean | null;
  /** The agent's `job_state` (`running`, `failing`, `stopped`…), null when unknown. */
  readonly jobState: string | null;
}

/** A persisted IP reservation (see networking/ip-reservation-store.ts). */
export interface IpReservation {
  readonly deployment: string;
  readonly instanceId: string;
  readonly network: string;
  /** Dotted IPv4. */
  readonly ip: string;
  readonly type: 'static' | 'dynamic';
}

export type InstanceAction = 'create' | 'update-in-place' | 'recreate' | 'detach' | 'delete' | 'none';

/** How a VM that must be replaced is replaced, and why. */
export interface StrategyDecision {
  readonly strategy: StemcellStrategy;
  readonly reason: string;
  /**
   * Set when `reload` was asked for but the VM is recreated instead: why, as a value (a preflight
   * can refuse the deploy on `no-rootfs`, naming what to upload, without reading `reason`).
   */
  readonly reloadRefused: ReloadRefusal | null;
  /**
   * Set when a reload moves the VM to an older (or unordered) stemcell version because the
   * deploy allowed it (`allow_downgrade`): the agent is then told `allow_downgrade` too.
   */
  readonly downgrade?: { readonly from: string; readonly to: string };
}

export type ReloadRefusal =
  | { readonly kind: 'other-changes'; readonly changes: readonly Change[] }
  | { readonly kind: 'no-vm' }
  | { readonly kind: 'agent-unresponsive' }
  | { readonly kind: 'unsupported-os'; readonly operatingSystem: string }
  | { readonly kind: 'no-rootfs'; readonly operatingSystem: string; readonly version: string }
  /** The target version is older than the VM's (or cannot be ordered against it: `ordered` false). */
  | { readonly kind: 'downgrade'; readonly from: string; readonly to: string; readonly ordered: boolean };

export interface InstancePlan {
  readonly id: string;
  readonly group: string;
  readonly index: number;
  readonly az: string | null;
  readonly action: InstanceAction;
  readonly changes: ReadonlySet<Change>;
  /** A new VM is needed (network, stemcell, cloud properties, env, recreate). */
  readonly needsRecreate: boolean;
  /** Jobs must stop and the VM go away (needsRecreate or obsolete). */
  readonly needsShuttingDown: boolean;
  /** Set when the VM is replaced (action `recreate`); null otherwise. */
  readonly stemcellStrategy: StrategyDecision | null;
  readonly desiredState: InstanceState;
  /** Canary of its group (updated first, alone in its stage). */
  readonly canary: boolean;
  readonly existing: CurrentInstance | null;
  /** The group this instance came from through `migrated_from`, else null. */
  readonly migratedFrom: string | null;
  readonly stemcell: ResolvedStemcell | null;
  /** Merged cloud properties of AZ, vm_type (or computed vm_resources) and vm_extensions. */
  readonly cloudProperties: Hash;
  readonly env: Hash;
  readonly networkSettings: NetworkSettings;
  readonly persistentDisk: { readonly size: number; readonly cloudProperties: Hash } | null;
  readonly tags: Readonly<Record<string, string>>;
  readonly skipDrain: boolean;
  /**
   * A `create-swap-delete` recreate: the new VM has fresh addresses on its manual networks (it
   * exists while the old VM still holds the old ones, as in BOSH), and these old reservations
   * are released when the old VM is deleted. Absent otherwise.
   */
  readonly releasedAfterSwap?: readonly IpReservation[];
}

/** One step of a group's rollout: run `instanceIds` with at most `maxInFlight` at once. */
export interface UpdateStage {
  readonly az: string | null;
  readonly canary: boolean;
  readonly instanceIds: readonly string[];
  readonly maxInFlight: number;
}

export interface InstanceGroupPlan {
  readonly name: string;
  readonly lifecycle: 'service' | 'errand';
  readonly group: CompiledInstanceGroup;
  readonly update: CompiledUpdate;
  /** Desired instances, by index. Errand groups are planned (ids, IPs) but their action is `none`. */
  readonly instances: readonly InstancePlan[];
  /** Instances of this group to delete at the start of its update (scale-down, AZ moves). */
  readonly obsolete: readonly InstancePlan[];
  /** In order; stages run one after another (or AZ stages together when azsInParallel). */
  readonly stages: readonly UpdateStage[];
  /**
   * `update.vm_strategy`, except that groups with static IPs always use `delete-create` (the
   * new VM could not take the old one's address), as in BOSH.
   */
  readonly vmStrategy: VmStrategy;
  /** Initial deploy with `initial_deploy_az_update_strategy: parallel`. */
  readonly azsInParallel: boolean;
}

export interface DeploymentPlan {
  readonly name: string;
  /** Service groups in manifest order; errands too (their instances are not updated here). */
  readonly instanceGroups: readonly InstanceGroupPlan[];
  /** Consecutive `serial: false` groups run together; each inner list runs in parallel. */
  readonly groupRuns: readonly (readonly string[])[];
  /** Instances of groups removed from the manifest: deleted first (§4.3 step 3). */
  readonly obsoleteInstances: readonly InstancePlan[];
  readonly deleteMaxInFlight: number;
  /** IP reservations to add and to release once the plan is carried out. */
  readonly ipReservations: {
    readonly add: readonly IpReservation[];
    readonly release: readonly IpReservation[];
    /** Every reservation the deployment holds after the plan. */
    readonly desired: readonly IpReservation[];
  };
  readonly initialDeploy: boolean;
  /** `--canaries` / `--max-in-flight` as given; null when the manifest decides. */
  readonly rollout: { readonly canaries: Amount | null; readonly maxInFlight: Amount | null };
}

export interface PlanSummaryRow {
  readonly instance: string;
  readonly az: string | null;
  readonly action: InstanceAction;
  readonly strategy: StemcellStrategy | null;
  readonly reason: string;
  readonly changes: readonly Change[];
}
