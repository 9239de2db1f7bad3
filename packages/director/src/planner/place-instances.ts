import type { CompiledGroupNetwork, CompiledInstanceGroup } from '../manifests/compile-manifest.ts';
import type { CompiledNetwork } from '../manifests/compile-cloud-config.ts';
import { parseIpv4 } from '../networking/ipv4.ts';
import { locateIp } from '../networking/subnet-lookup.ts';
import type { CurrentInstance, IpReservation } from './plan-types.ts';

/** A desired instance with its identity, AZ and static IPs settled. */
export interface PlacedInstance {
  readonly id: string;
  readonly index: number;
  readonly az: string | null;
  readonly existing: CurrentInstance | null;
  /** network name → static IP (numeric) chosen for this instance. */
  readonly staticIps: ReadonlyMap<string, number>;
}

export interface Placement {
  readonly placed: readonly PlacedInstance[];
  readonly obsolete: readonly CurrentInstance[];
}

export interface PlaceInput {
  readonly group: CompiledInstanceGroup;
  readonly networks: ReadonlyMap<string, CompiledNetwork>;
  /** Instances of this group and of its `migrated_from` groups, any order. */
  readonly existing: readonly CurrentInstance[];
  readonly reservations: readonly IpReservation[];
  readonly newId: () => string;
}

/**
 * BOSH's placement (`placement_planner/*`): existing instances keep their identity, index and
 * AZ when they can; instances with a persistent disk stay in their AZ; the rest are balanced
 * across the group's AZs (fewest placed first, ties to the AZ with most unplaced existing
 * instances, then manifest order). With static IPs, each IP's subnet decides the AZ and an
 * existing instance keeps its IP. Unclaimed existing instances are obsolete. New instances
 * take the lowest free index.
 */
export function placeInstances(input: PlaceInput): Placement {
  const { group } = input;
  const azs: (string | null)[] = group.azs.length > 0 ? [...group.azs] : [null];
  const unplaced = [...input.existing].sort((a, b) => a.index - b.index);
  const usedIndexes = new Set(input.existing.map((e) => e.index));
  const claim = (instance: CurrentInstance) => unplaced.splice(unplaced.indexOf(instance), 1);
  const desired: { existing: CurrentInstance | null; az: string | null; staticIps: Map<string, number> }[] =
    [];

  const staticNetworks = group.networks.filter((n) => n.staticIps.length > 0);
  const primary = staticNetworks[0];
  if (primary !== undefined) {
    placeByStaticIps(primary, input, azs, unplaced, claim, desired);
  } else {
    placeBalanced(group.instances, azs, unplaced, claim, desired);
  }
  bindOtherStaticIps(staticNetworks.slice(1), input.reservations, desired);

  const placed = desired.map((d): PlacedInstance => {
    if (d.existing)
      return {
        id: d.existing.id,
        index: d.existing.index,
        az: d.az,
        existing: d.existing,
        staticIps: d.staticIps,
      };
    let index = 0;
    while (usedIndexes.has(index)) index++;
    usedIndexes.add(index);
    return { id: input.newId(), index, az: d.az, existing: null, staticIps: d.staticIps };
  });
  placed.sort((a, b) => a.index - b.index);
  return { placed, obsolete: unplaced };
}

type Desired = { existing: CurrentInstance | null; az: string | null; staticIps: Map<string, number> };

function placeBalanced(
  count: number,
  azs: readonly (string | null)[],
  unplaced: CurrentInstance[],
  claim: (i: CurrentInstance) => void,
  desired: Desired[],
): void {
  const placedPerAz = new Map(azs.map((az) => [az, 0]));
  const place = (existing: CurrentInstance | null, az: string | null) => {
    desired.push({ existing, az, staticIps: new Map() });
    placedPerAz.set(az, (placedPerAz.get(az) ?? 0) + 1);
  };
  for (const instance of unplaced.filter((i) => i.disk !== null && azs.includes(i.az))) {
    if (desired.length >= count) break;
    claim(instance);
    place(instance, instance.az);
  }
  while (desired.length < count) {
    const fewest = Math.min(...azs.map((az) => placedPerAz.get(az) ?? 0));
    const candidates = azs.filter((az) => (placedPerAz.get(az) ?? 0) === fewest);
    const waiting = (az: string | null) => unplaced.filter((i) => i.az === az).length;
    let az = candidates[0] ?? null;
    for (const c of candidates) if (waiting(c) > waiting(az)) az = c;
    const existing = unplaced.find((i) => i.az === az) ?? null;
    if (existing) claim(existing);
    place(existing, az);
  }
}

function placeByStaticIps(
  network: CompiledGroupNetwork,
  input: PlaceInput,
  azs: readonly (string | null)[],
  unplaced: CurrentInstance[],
  claim: (i: CurrentInstance) => void,
  desired: Desired[],
): void {
  const cloudNetwork = input.networks.get(network.name);
  const azsOfIp = (ip: number): (string | null)[] => {
    if (cloudNetwork?.type !== 'manual') return [...azs];
    const place = locateIp(cloudNetwork.subnets, ip);
    if (place.kind === 'outside' || place.subnet.azs.length === 0) return [...azs];
    return azs.filter((az) => az !== null && place.subnet.azs.includes(az));
  };
  const heldBy = new Map<number, string>();
  for (const r of input.reservations) {
    const ip = parseIpv4(r.ip);
    if (r.network === network.name && ip !== null) heldBy.set(ip, r.instanceId);
  }
  const remaining: number[] = [];
  for (const ip of network.staticIps) {
    const holder = unplaced.find((i) => i.id === heldBy.get(ip) && azsOfIp(ip).includes(i.az));
    if (holder) {
      claim(holder);
      desired.push({ existing: holder, az: holder.az, staticIps: new Map([[network.name, ip]]) });
    } else remaining.push(ip);
  }
  for (const ip of remaining) {
    const allowed = azsOfIp(ip);
    const existing = unplaced.find((i) => allowed.includes(i.az)) ?? null;
    if (existing) claim(existing);
    const count = (az: string | null) => desired.filter((d) => d.az === az).length;
    let az = existing?.az ?? allowed[0] ?? null;
    if (!existing) for (const c of allowed) if (count(c) < count(az)) az = c;
    desired.push({ existing, az, staticIps: new Map([[network.name, ip]]) });
  }
}

/** Secondary static networks: an instance keeps its IP when still listed; others fill in order. */
function bindOtherStaticIps(
  networks: readonly CompiledGroupNetwork[],
  reservations: readonly IpReservation[],
  desired: Desired[],
): void {
  for (const network of networks) {
    const free = new Set(network.staticIps);
    const pending: Desired[] = [];
    for (const d of desired) {
      const held = reservations.find(
        (r) =>
          r.network === network.name && r.instanceId === d.existing?.id && free.has(parseIpv4(r.ip) ?? -1),
      );
      const ip = held ? parseIpv4(held.ip) : null;
      if (ip !== null) {
        d.staticIps.set(network.name, ip);
        free.delete(ip);
      } else pending.push(d);
    }
    const rest = network.staticIps.filter((ip) => free.has(ip));
    pending.forEach((d, i) => {
      const ip = rest[i];
      if (ip !== undefined) d.staticIps.set(network.name, ip);
    });
  }
}
