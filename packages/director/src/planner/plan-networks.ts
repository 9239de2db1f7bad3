import type { CompiledNetwork } from '../manifests/compile-cloud-config.ts';
import type { CompiledInstanceGroup } from '../manifests/compile-manifest.ts';
import { findFreeIp } from '../networking/allocate-ips.ts';
import { formatIpv4, parseIpv4 } from '../networking/ipv4.ts';
import { locateIp } from '../networking/subnet-lookup.ts';
import type { PlacedInstance } from './place-instances.ts';
import type { IpReservation, NetworkSetting, NetworkSettings } from './plan-types.ts';
import { PlanImpossible } from './plan-impossible.ts';

export interface InstanceNetworks {
  readonly settings: NetworkSettings;
  readonly reservations: readonly IpReservation[];
}

/**
 * Settles an instance's address on each of its networks. Static IPs come from placement; on a
 * manual network without static IPs the instance keeps its dynamic reservation while it is
 * still valid for its AZ (inside a subnet of the AZ, outside reserved and static ranges),
 * otherwise it takes the lowest free address (always, with `fresh`). `taken` holds every
 * address in use on each network (by number) and is updated with what this instance takes.
 */
export function planInstanceNetworks(args: {
  readonly deployment: string;
  readonly group: CompiledInstanceGroup;
  readonly instance: PlacedInstance;
  readonly cloudNetworks: ReadonlyMap<string, CompiledNetwork>;
  readonly existingReservations: readonly IpReservation[];
  readonly taken: Map<string, Set<number>>;
  /** Take a free address on manual networks without static IPs, keeping none (create-swap-delete). */
  readonly fresh?: boolean;
}): InstanceNetworks {
  const { group, instance } = args;
  const settings: Record<string, NetworkSetting> = {};
  const reservations: IpReservation[] = [];
  for (const network of group.networks) {
    const cloud = args.cloudNetworks.get(network.name);
    if (cloud === undefined) continue;
    const reserve = (ip: number, type: 'static' | 'dynamic') => {
      reservations.push({
        deployment: args.deployment,
        instanceId: instance.id,
        network: network.name,
        ip: formatIpv4(ip),
        type,
      });
      const set = args.taken.get(network.name) ?? new Set<number>();
      set.add(ip);
      args.taken.set(network.name, set);
    };
    const staticIp = instance.staticIps.get(network.name);
    switch (cloud.type) {
      case 'vip': {
        if (staticIp !== undefined) reserve(staticIp, 'static');
        settings[network.name] = {
          type: 'vip',
          ip: staticIp === undefined ? null : formatIpv4(staticIp),
          netmask: null,
          gateway: null,
          dns: [],
          default: network.default,
          cloudProperties: cloud.cloudProperties,
        };
        break;
      }
      case 'dynamic': {
        const subnet =
          cloud.subnets.find((s) =>
            instance.az === null ? s.azs.length === 0 : s.azs.includes(instance.az),
          ) ?? cloud.subnets[0];
        settings[network.name] = {
          type: 'dynamic',
          ip: null,
          netmask: null,
          gateway: null,
          dns: subnet?.dns ?? [],
          default: network.default,
          cloudProperties: subnet?.cloudProperties ?? {},
        };
        break;
      }
      case 'manual': {
        let ip = staticIp ?? null;
        if (ip === null && args.fresh !== true) {
          // The VM's own address first: after a create-swap-delete the instance can hold two
          // reservations on a network until the old VM's is released.
          const vmIp = instance.existing?.vm?.networkSettings[network.name]?.ip ?? null;
          const mine = args.existingReservations.filter(
            (r) => r.instanceId === instance.id && r.network === network.name && r.type === 'dynamic',
          );
          const kept = mine.find((r) => r.ip === vmIp) ?? mine[0];
          // Without a recorded reservation (state from before reservations were kept), the VM's
          // own address is kept when nobody else holds it.
          const fromVm = vmIp === null ? null : parseIpv4(vmIp);
          const keptIp = kept
            ? parseIpv4(kept.ip)
            : fromVm !== null && !(args.taken.get(network.name)?.has(fromVm) ?? false)
              ? fromVm
              : null;
          if (keptIp !== null) {
            const place = locateIp(cloud.subnets, keptIp);
            const azOk =
              place.kind !== 'outside' &&
              (instance.az === null ? place.subnet.azs.length === 0 : place.subnet.azs.includes(instance.az));
            if (place.kind === 'dynamic' && azOk) ip = keptIp;
          }
        }
        if (ip === null) {
          const free = findFreeIp(cloud.subnets, instance.az, args.taken.get(network.name) ?? new Set());
          if (free === null) {
            throw new PlanImpossible(
              `instance group '${group.name}': network '${network.name}' has no free address${instance.az === null ? '' : ` in az '${instance.az}'`}`,
            );
          }
          ip = free.ip;
        }
        reserve(ip, staticIp === undefined ? 'dynamic' : 'static');
        const place = locateIp(cloud.subnets, ip);
        const subnet = place.kind === 'outside' ? undefined : place.subnet;
        settings[network.name] = {
          type: 'manual',
          ip: formatIpv4(ip),
          netmask: subnet ? formatIpv4(subnet.cidr.netmask) : null,
          gateway: subnet ? formatIpv4(subnet.gateway) : null,
          dns: subnet?.dns ?? [],
          default: network.default,
          cloudProperties: subnet?.cloudProperties ?? {},
        };
        break;
      }
    }
  }
  return { settings, reservations };
}
