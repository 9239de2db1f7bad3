import type { ApplySpec } from '@refit/protocol';
import type { AgentClient } from '../agent-client/agent-client.ts';
import type { Cloud, CpiCallLog } from '../cpi-client/cloud.ts';
import type { Hash } from '../manifests/compile-cloud-config.ts';
import type {
  AppliedHashes,
  CurrentDisk,
  InstancePlan,
  InstanceState,
  IpReservation,
  NetworkSettings,
  StemcellRef,
} from '../planner/plan-types.ts';
import type { EventLog } from '../tasks/task-context.ts';
import type { ReloadSource } from './reload/reload-source.ts';

/** Time as the updater sees it: injected so watch times and drain waits run instantly in tests. */
export interface Clock {
  now(): number;
  sleep(ms: number, signal: AbortSignal): Promise<void>;
}

/** The VM row the updater writes once a VM exists (what the planner later compares against). */
export interface StoredVm {
  readonly cid: string;
  readonly agentId: string;
  readonly stemcell: StemcellRef;
  readonly cloudProperties: Hash;
  readonly env: Hash;
  readonly networkSettings: NetworkSettings;
  readonly createdAt: string;
}

/** A VM as far as deleting it goes. */
export type VmRef = Pick<StoredVm, 'cid' | 'agentId'>;

/** A VM to delete that is no instance's VM, with the instance it belonged or was meant to belong to. */
export interface LeftoverVm extends VmRef {
  readonly instanceId: string;
  /** Reservations released when it is deleted (the old VM's addresses the new VM did not keep). */
  readonly ips: readonly IpReservation[];
}

/** What was applied when an instance's update finished. */
export interface AppliedState {
  readonly state: InstanceState;
  readonly hashes: AppliedHashes;
  readonly applySpec: ApplySpec;
}

/**
 * Where the updater records instance state as it goes, so an interrupted deploy leaves the
 * truth behind: VMs and disks as soon as the IaaS has them, `updateStarted` (BOSH's dirty flag)
 * before the first change to an instance, `updateCompleted` after the last.
 */
export interface InstanceStateStore {
  updateStarted(instanceId: string): Promise<void>;
  vmCreated(instanceId: string, vm: StoredVm): Promise<void>;
  vmDeleted(instanceId: string, cid: string): Promise<void>;
  diskCreated(instanceId: string, disk: CurrentDisk): Promise<void>;
  /**
   * The new disk of a migration, recorded INACTIVE right after `create_disk` (BOSH's
   * `active: false` row): never the instance's disk until `diskReplaced`, but recorded, so a
   * director that dies before the switch leaves it for cloud check and the next deploy.
   */
  inactiveDiskCreated(instanceId: string, disk: CurrentDisk): Promise<void>;
  /** The instance's inactive disks (a migration that did not finish), oldest CID first. */
  inactiveDisks(instanceId: string): Promise<CurrentDisk[]>;
  /** The disk's record goes (cloud check's `delete_disk_reference`/`delete_disk`). */
  diskDeleted(instanceId: string, cid: string): Promise<void>;
  /**
   * The disk leaves the instance but is kept, as BOSH's `OrphanDiskManager#orphan_disk` does:
   * its record moves to the orphaned disks in one transaction (an operator can list it, attach
   * it back or delete it). Called once the disk is detached, or the VM is gone.
   */
  diskOrphaned(instanceId: string, cid: string): Promise<void>;
  /**
   * A migrated disk, in one transaction (BOSH's switch of the active flags): the new disk's
   * inactive row becomes the instance's active disk and the old one is orphaned (it is detached
   * right after; it is never deleted).
   */
  diskReplaced(instanceId: string, oldCid: string, disk: CurrentDisk): Promise<void>;
  /**
   * A VM that must go even if the director dies before deleting it (reference §4.4 D): the new VM
   * of a `create-swap-delete` until the swap, the old one after it. Durable; the next deploy of
   * the deployment deletes what is still recorded (`deleteLeftoverVmsStep`).
   */
  vmLeftover(instanceId: string, vm: VmRef): Promise<void>;
  /**
   * The swap of a `create-swap-delete`, in one transaction: `vm` becomes the instance's VM (it
   * stops being a leftover) and `old` becomes a leftover holding `oldIps` (its addresses on
   * networks where the new VM got fresh ones) until it is deleted.
   */
  vmSwapped(instanceId: string, old: VmRef, vm: StoredVm, oldIps: readonly IpReservation[]): Promise<void>;
  /**
   * The old VM of a finished `create-swap-delete` is orphaned (BOSH's `OrphanVmStep`): its
   * leftover row gets `orphaned_at`, so the scheduled orphaned VM cleanup deletes it.
   */
  vmOrphaned(cid: string): Promise<void>;
  /** A leftover VM is gone from the IaaS: its record and the reservations it held go. */
  leftoverVmDeleted(cid: string): Promise<void>;
  /** The deployment's leftover VMs (none of them any instance's VM). */
  leftoverVms(): Promise<LeftoverVm[]>;
  updateCompleted(instanceId: string, applied: AppliedState): Promise<void>;
  /** The instance is gone (obsolete or removed group): its row and reservations. */
  instanceDeleted(instanceId: string): Promise<void>;
}

/** One change worth a BOSH event (`GET /events`). */
export interface UpdaterEvent {
  readonly action: 'create' | 'update' | 'recreate' | 'start' | 'stop' | 'delete' | 'attach' | 'detach';
  readonly objectType: 'instance' | 'vm' | 'disk';
  readonly objectName: string;
  readonly instance: string | null;
  readonly context?: Readonly<Record<string, unknown>>;
}

/** Everything an instance needs to reach its desired state, computed before any VM is touched. */
export interface InstanceTarget {
  readonly plan: InstancePlan;
  /** The full apply spec (jobs, packages, rendered templates archive, networks). */
  readonly applySpec: ApplySpec;
  readonly hashes: AppliedHashes;
  /** The stemcell's CID on the IaaS; null for instances that get no VM. */
  readonly stemcellCid: string | null;
  readonly stemcellApiVersion: number | null;
  /** Set when the instance is reloaded in place (OS reload): the rootfs and the failure policy. */
  readonly reload?: ReloadSource;
}

/** The updater's dependencies: small ports, all injected. */
export interface UpdaterDeps {
  readonly deployment: string;
  readonly cloud: Cloud;
  readonly agents: AgentClient;
  readonly store: InstanceStateStore;
  readonly clock: Clock;
  readonly events: EventLog;
  readonly cpiLog: CpiCallLog;
  readonly signal: AbortSignal;
  /** A new agent id for each VM (a UUID in production). */
  readonly newAgentId: () => string;
  /** `env.bosh` the VM is created with besides the group's `env` (mbus, blobstores). */
  readonly agentEnv: Hash;
  readonly record: (event: UpdaterEvent) => Promise<void>;
  /** Max VMs created at once in `Creating missing vms` (BOSH's max_threads). */
  readonly maxThreads?: number;
  /** How long to wait for a new VM's agent (BOSH's agent_wait_timeout, 600 s). */
  readonly agentWaitTimeoutMs?: number;
}
