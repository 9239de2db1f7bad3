import type { Hash } from '../manifests/compile-cloud-config.ts';
import type { ResolvedStemcell } from '../manifests/compile-manifest.ts';
import { deepEqual } from './deep-equal.ts';
import {
  Change,
  changeOrder,
  type CurrentInstance,
  type InstanceState,
  type NetworkSettings,
  type StateOverride,
} from './plan-types.ts';

/** Hashes the template renderer computes for an instance (desired side of §4.2). */
export interface RenderedHashes {
  readonly packages?: string;
  readonly job?: string;
  readonly configuration?: string;
}

/** Hashes of director-wide settings pushed with `update_settings`. */
export interface SettingsHashes {
  readonly trustedCerts?: string;
  readonly blobstoreConfig?: string;
  readonly natsConfig?: string;
}

export interface DesiredInstance {
  readonly stemcell: ResolvedStemcell;
  readonly cloudProperties: Hash;
  readonly env: Hash;
  readonly networkSettings: NetworkSettings;
  readonly persistentDisk: { readonly size: number; readonly cloudProperties: Hash } | null;
  readonly tags: Readonly<Record<string, string>>;
  readonly state: InstanceState;
  readonly rendered: RenderedHashes | null;
  readonly settings: SettingsHashes;
}

export interface ChangeRequests {
  /** `--recreate` (whole deployment). */
  readonly recreate: boolean;
  /** With `recreate`: only VMs created before this instant (ISO 8601). */
  readonly recreateVmsCreatedBefore: string | null;
  readonly recreatePersistentDisks: boolean;
  /** `--fix`: recreate instances whose agent does not answer. */
  readonly fix: boolean;
  readonly override: StateOverride | null;
}

/**
 * The set of changes of an existing instance (BOSH's `instance_plan.rb#changes`), in BOSH's
 * order. Pure; every input is a value. A change whose inputs are unknown (no rendered hashes
 * yet, no stored hash) is not reported.
 */
export function instanceChanges(
  current: CurrentInstance,
  desired: DesiredInstance,
  requests: ChangeRequests,
): ReadonlySet<Change> {
  const found = new Set<Change>();
  const vm = current.vm;
  if (!current.updateCompleted) found.add(Change.dirty);
  if (requests.override === 'restart') found.add(Change.restart);
  if (recreateRequested(current, requests)) found.add(Change.recreate);
  if (requests.recreatePersistentDisks) found.add(Change.recreatePersistentDisks);
  if (vm !== null) {
    if (!deepEqual(vm.cloudProperties, desired.cloudProperties)) found.add(Change.cloudProperties);
    if (vm.stemcell.name !== desired.stemcell.name || vm.stemcell.version !== desired.stemcell.version) {
      found.add(Change.stemcell);
    }
    if (!deepEqual(vm.env, desired.env)) found.add(Change.env);
    if (!deepEqual(comparable(vm.networkSettings), comparable(desired.networkSettings)))
      found.add(Change.network);
  }
  const r = desired.rendered;
  const h = current.hashes;
  if (r?.packages !== undefined && r.packages !== h.packages) found.add(Change.packages);
  if (requests.recreatePersistentDisks || diskChanged(current, desired)) found.add(Change.persistentDisk);
  if (r?.configuration !== undefined && r.configuration !== h.configuration) found.add(Change.configuration);
  if (r?.job !== undefined && r.job !== h.job) found.add(Change.job);
  if (stateChanged(current, desired.state)) found.add(Change.state);
  const s = desired.settings;
  if (s.trustedCerts !== undefined && s.trustedCerts !== (h.trustedCerts ?? null))
    found.add(Change.trustedCerts);
  if (s.blobstoreConfig !== undefined && s.blobstoreConfig !== (h.blobstoreConfig ?? null)) {
    found.add(Change.blobstoreConfig);
  }
  if (s.natsConfig !== undefined && s.natsConfig !== (h.natsConfig ?? null)) found.add(Change.natsConfig);
  if (current.tags !== null && !deepEqual(current.tags, desired.tags)) found.add(Change.tags);
  return new Set(changeOrder.filter((c) => found.has(c)));
}

function recreateRequested(current: CurrentInstance, requests: ChangeRequests): boolean {
  if (requests.override === 'recreate') return olderThanCutoff(current, requests.recreateVmsCreatedBefore);
  if (requests.recreate) return olderThanCutoff(current, requests.recreateVmsCreatedBefore);
  return requests.fix && current.agentResponsive === false;
}

function olderThanCutoff(current: CurrentInstance, cutoff: string | null): boolean {
  if (cutoff === null || current.vm === null) return true;
  return Date.parse(current.vm.createdAt) < Date.parse(cutoff);
}

function diskChanged(current: CurrentInstance, desired: DesiredInstance): boolean {
  const want = desired.persistentDisk;
  const have = current.disk;
  if (want === null || have === null) return (want === null) !== (have === null);
  return want.size !== have.size || !deepEqual(want.cloudProperties, have.cloudProperties);
}

function stateChanged(current: CurrentInstance, desired: InstanceState): boolean {
  if (desired === 'detached') return current.state !== 'detached' || current.vm !== null;
  if (current.agentResponsive === false) return true;
  if (current.vm === null) return true;
  if (desired === 'stopped') return current.jobState === 'running' || current.state !== 'stopped';
  return current.state !== 'started' || (current.jobState !== null && current.jobState !== 'running');
}

/** A dynamic network's address is the IaaS's choice: the stored one is not compared. */
function comparable(settings: NetworkSettings): NetworkSettings {
  return Object.fromEntries(
    Object.entries(settings).map(([name, s]) => [
      name,
      s.type === 'dynamic' ? { ...s, ip: null, netmask: null, gateway: null } : s,
    ]),
  );
}
