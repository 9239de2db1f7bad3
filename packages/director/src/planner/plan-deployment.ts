import type { CountOrPercent } from '@refit/protocol';
import type { CompiledCloudConfig, Hash } from '../manifests/compile-cloud-config.ts';
import type { CompiledDeployment, CompiledInstanceGroup } from '../manifests/compile-manifest.ts';
import { maxInFlightFor, parseAmount, StemcellStrategy, VmStrategy } from '../manifests/update-config.ts';
import { parseIpv4 } from '../networking/ipv4.ts';
import type { ReloadableStemcell } from './choose-stemcell-strategy.ts';
import { decideAction, obsoletePlan } from './decide-action.ts';
import { deepMerge } from './deep-equal.ts';
import { instanceChanges, type RenderedHashes, type SettingsHashes } from './instance-changes.ts';
import { placeInstances } from './place-instances.ts';
import { PlanImpossible } from './plan-impossible.ts';
import { planInstanceNetworks } from './plan-networks.ts';
import {
  Change,
  type CurrentInstance,
  type DeploymentPlan,
  type InstanceGroupPlan,
  type InstancePlan,
  type InstanceState,
  type IpReservation,
  type StateOverride,
} from './plan-types.ts';
import { groupRuns, updateStages } from './update-stages.ts';

/** `PUT /deployments/<d>/jobs/<group|*>[/<id or index>]?state=…` as a value. */
export interface StateOverrideTarget {
  /** An instance group name, or `*` for all. */
  readonly group: string;
  /** An instance id or index; all instances of the group when absent. */
  readonly instance?: string;
  readonly state: StateOverride;
}

export interface PlanOptions {
  readonly recreate?: boolean;
  readonly recreateVmsCreatedBefore?: string;
  readonly recreatePersistentDisks?: boolean;
  readonly fix?: boolean;
  /** true for all, or a list of `<group>` / `<group>/<id>`. */
  readonly skipDrain?: boolean | readonly string[];
  readonly canaries?: CountOrPercent;
  readonly maxInFlight?: CountOrPercent;
  /** `deploy --strategy`: overrides the manifest's `stemcell_strategy`. */
  readonly stemcellStrategy?: StemcellStrategy;
  /** `deploy --allow-downgrade`: reload may move a VM to an older stemcell (else it recreates). */
  readonly allowDowngrade?: boolean;
  readonly instanceStateOverrides?: readonly StateOverrideTarget[];
}

export interface PlanInput {
  readonly deployment: CompiledDeployment;
  readonly current: {
    /** Every instance the deployment has in the database. */
    readonly instances: readonly CurrentInstance[];
    /** IP reservations of this deployment. */
    readonly reservations: readonly IpReservation[];
    /** IP reservations of other deployments (those addresses are taken). */
    readonly otherReservations?: readonly IpReservation[];
  };
  /** Generic stemcells uploaded (for `reload`). */
  readonly reloadable?: readonly ReloadableStemcell[];
  /** Instance id → hashes from template rendering; see also `applyRenderedHashes`. */
  readonly renderedHashes?: ReadonlyMap<string, RenderedHashes>;
  readonly settingsHashes?: SettingsHashes;
  /** Group name → the CPI's `calculate_vm_cloud_properties` for groups using `vm_resources`. */
  readonly vmResourcesCloudProperties?: ReadonlyMap<string, Hash>;
  readonly options?: PlanOptions;
  /** Returns a new instance id (a UUID in production); injected so planning stays pure. */
  readonly newId: () => string;
}

/** Manifest + cloud config + current state → what to do to every instance, and in what order. */
export function planDeployment(input: PlanInput): DeploymentPlan {
  const { deployment } = input;
  const options = input.options ?? {};
  const cloud = deployment.cloudConfig;
  const rollout = {
    canaries: options.canaries === undefined ? null : parseAmount(options.canaries),
    maxInFlight: options.maxInFlight === undefined ? null : parseAmount(options.maxInFlight),
  };
  const taken = new Map<string, Set<number>>();
  const other = input.current.otherReservations ?? [];
  for (const r of [...input.current.reservations, ...other]) {
    const ip = parseIpv4(r.ip);
    if (ip === null) continue;
    const set = taken.get(r.network) ?? new Set<number>();
    set.add(ip);
    taken.set(r.network, set);
  }
  for (const g of deployment.instanceGroups) {
    for (const n of g.networks) {
      for (const ip of n.staticIps) {
        const holder = other.find((r) => r.network === n.name && parseIpv4(r.ip) === ip);
        if (holder) {
          throw new PlanImpossible(
            `instance group '${g.name}': static IP ${holder.ip} on network '${n.name}' is already used by deployment '${holder.deployment}'`,
          );
        }
      }
    }
  }

  const claimed = new Set<string>();
  const desiredReservations: IpReservation[] = [];
  const groups: InstanceGroupPlan[] = [];
  for (const group of deployment.instanceGroups) {
    const existing = input.current.instances
      .filter((i) => i.group === group.name || group.migratedFrom.some((m) => m.name === i.group))
      .map((i) => {
        const from = group.migratedFrom.find((m) => m.name === i.group);
        return from && i.az === null && from.az !== null ? { ...i, az: from.az } : i;
      });
    existing.forEach((i) => claimed.add(i.id));
    const placement = placeInstances({
      group,
      networks: cloud.networks,
      existing,
      reservations: input.current.reservations,
      newId: input.newId,
    });
    const vmStrategy = group.networks.some((n) => n.staticIps.length > 0)
      ? VmStrategy.deleteCreate
      : group.update.vmStrategy;
    const planned = placement.placed.map((placed) => {
      const networksArgs = {
        deployment: deployment.name,
        group,
        instance: placed,
        cloudNetworks: cloud.networks,
        existingReservations: input.current.reservations,
        taken,
      };
      const networks = planInstanceNetworks(networksArgs);
      desiredReservations.push(...networks.reservations);
      const original = placed.existing
        ? input.current.instances.find((i) => i.id === placed.existing?.id)
        : undefined;
      const instanceArgs = {
        input,
        group,
        id: placed.id,
        index: placed.index,
        az: placed.az,
        existing: placed.existing,
        migratedFrom: original && original.group !== group.name ? original.group : null,
        networkSettings: networks.settings,
        cloudProperties: cloudPropertiesFor(cloud, group, placed.az, input.vmResourcesCloudProperties),
      };
      const plan = planInstance(instanceArgs);
      if (!swapsVm(plan, group.lifecycle, vmStrategy)) return plan;
      // create-swap-delete (as BOSH does): the new VM exists beside the old one, so it gets
      // fresh addresses on manual networks; the old ones stay reserved (desired) until the old
      // VM is deleted after the swap.
      const fresh = planInstanceNetworks({ ...networksArgs, fresh: true });
      const renewed = fresh.reservations.filter(
        (r) => !networks.reservations.some((o) => o.network === r.network && o.ip === r.ip),
      );
      if (renewed.length === 0) return plan;
      desiredReservations.push(...renewed);
      const releasedAfterSwap = networks.reservations.filter((o) =>
        renewed.some((r) => r.network === o.network),
      );
      return { ...planInstance({ ...instanceArgs, networkSettings: fresh.settings }), releasedAfterSwap };
    });
    // Errands get their VMs when run (`run-errand`), never from a deploy.
    const instances =
      group.lifecycle === 'errand'
        ? planned.map((i) => ({
            ...i,
            action: 'none' as const,
            needsRecreate: false,
            needsShuttingDown: false,
            stemcellStrategy: null,
          }))
        : planned;
    const obsolete = placement.obsolete.map((i) => obsoletePlan(i, skipDrainFor(options, i.group, i.id)));
    const { stages, canaryIds } = updateStages({
      azOrder: group.azs,
      instances,
      update: group.update,
      ...rollout,
    });
    groups.push({
      name: group.name,
      lifecycle: group.lifecycle,
      group,
      update: group.update,
      instances: instances.map((i) => (canaryIds.has(i.id) ? { ...i, canary: true } : i)),
      obsolete,
      stages: group.lifecycle === 'errand' ? [] : stages,
      vmStrategy,
      azsInParallel:
        input.current.instances.length === 0 && group.update.initialDeployAzUpdateStrategy === 'parallel',
    });
  }

  const obsoleteInstances = input.current.instances
    .filter((i) => !claimed.has(i.id))
    .map((i) => obsoletePlan(i, skipDrainFor(options, i.group, i.id)));
  const key = (r: IpReservation) => `${r.instanceId}|${r.network}|${r.ip}`;
  const before = new Set(input.current.reservations.map(key));
  const after = new Set(desiredReservations.map(key));
  return {
    name: deployment.name,
    instanceGroups: groups,
    groupRuns: groupRuns(
      deployment.instanceGroups
        .filter((g) => g.lifecycle === 'service')
        .map((g) => ({ name: g.name, serial: g.update.serial })),
    ),
    obsoleteInstances,
    deleteMaxInFlight: maxInFlightFor(
      rollout.maxInFlight ? { ...deployment.update, maxInFlight: rollout.maxInFlight } : deployment.update,
      Math.max(1, obsoleteInstances.length),
    ),
    ipReservations: {
      add: desiredReservations.filter((r) => !before.has(key(r))),
      release: input.current.reservations.filter((r) => !after.has(key(r))),
      desired: desiredReservations,
    },
    initialDeploy: input.current.instances.length === 0,
    rollout,
  };
}

function planInstance(args: {
  readonly input: PlanInput;
  readonly group: CompiledInstanceGroup;
  readonly id: string;
  readonly index: number;
  readonly az: string | null;
  readonly existing: CurrentInstance | null;
  readonly migratedFrom: string | null;
  readonly networkSettings: InstancePlan['networkSettings'];
  readonly cloudProperties: Hash;
}): InstancePlan {
  const { input, group, existing } = args;
  const options = input.options ?? {};
  const override = overrideFor(options.instanceStateOverrides ?? [], group.name, args.id, args.index);
  const desiredState: InstanceState =
    override === 'started' || override === 'stopped' || override === 'detached'
      ? override
      : override === 'restart' || override === 'recreate'
        ? 'started'
        : (existing?.state ?? 'started');
  const base = {
    id: args.id,
    group: group.name,
    index: args.index,
    az: args.az,
    desiredState,
    canary: false,
    existing,
    migratedFrom: args.migratedFrom,
    stemcell: group.stemcell,
    cloudProperties: args.cloudProperties,
    env: group.env,
    networkSettings: args.networkSettings,
    persistentDisk: group.persistentDisk
      ? { size: group.persistentDisk.size, cloudProperties: group.persistentDisk.cloudProperties }
      : null,
    tags: group.tags,
    skipDrain: skipDrainFor(options, group.name, args.id),
  };
  if (existing === null) {
    return {
      ...base,
      action: 'create',
      changes: new Set(),
      needsRecreate: false,
      needsShuttingDown: false,
      stemcellStrategy: null,
    };
  }
  const changes = instanceChanges(
    existing,
    {
      ...base,
      state: desiredState,
      rendered: input.renderedHashes?.get(args.id) ?? null,
      settings: input.settingsHashes ?? {},
    },
    {
      recreate: options.recreate ?? false,
      recreateVmsCreatedBefore: options.recreateVmsCreatedBefore ?? null,
      recreatePersistentDisks: options.recreatePersistentDisks ?? false,
      fix: options.fix ?? false,
      override,
    },
  );
  // A recreate the operator asks for (`recreate`, `deploy --recreate`) gives new VMs from the
  // IaaS, as in BOSH, unless the request itself says `strategy=reload`: the manifest's
  // `stemcell_strategy` is about stemcell bumps, not about recreates.
  const requested =
    options.stemcellStrategy ??
    (changes.has(Change.recreate) ? StemcellStrategy.recreate : group.update.stemcellStrategy);
  return decideAction({ ...base, changes }, requested, {
    reloadable: input.reloadable ?? [],
    allowDowngrade: options.allowDowngrade ?? false,
  });
}

/** The updater will recreate this instance with create-swap-delete (update-instance.ts). */
function swapsVm(plan: InstancePlan, lifecycle: 'service' | 'errand', strategy: VmStrategy): boolean {
  return (
    lifecycle === 'service' &&
    strategy === VmStrategy.createSwapDelete &&
    plan.action === 'recreate' &&
    plan.existing?.vm != null &&
    plan.existing.agentResponsive !== false
  );
}

function cloudPropertiesFor(
  cloud: CompiledCloudConfig,
  group: CompiledInstanceGroup,
  az: string | null,
  computed: ReadonlyMap<string, Hash> | undefined,
): Hash {
  const azProps = az === null ? {} : (cloud.azs.get(az)?.cloudProperties ?? {});
  let vmProps: Hash;
  if (group.vmType !== null) vmProps = cloud.vmTypes.get(group.vmType)?.cloudProperties ?? {};
  else {
    const found = computed?.get(group.name);
    if (found === undefined) {
      throw new PlanImpossible(
        `instance group '${group.name}' uses vm_resources: its cloud properties were not computed`,
      );
    }
    vmProps = found;
  }
  const extensions = group.vmExtensions.map((e) => cloud.vmExtensions.get(e)?.cloudProperties ?? {});
  return deepMerge(azProps, vmProps, ...extensions);
}

function overrideFor(
  targets: readonly StateOverrideTarget[],
  group: string,
  id: string,
  index: number,
): StateOverride | null {
  let found: StateOverride | null = null;
  for (const t of targets) {
    if (t.group !== '*' && t.group !== group) continue;
    if (t.instance !== undefined && t.instance !== id && t.instance !== String(index)) continue;
    found = t.state;
  }
  return found;
}

function skipDrainFor(options: PlanOptions, group: string, id: string): boolean {
  const skip = options.skipDrain;
  if (skip === undefined || typeof skip === 'boolean') return skip ?? false;
  return skip.includes(group) || skip.includes(`${group}/${id}`);
}
