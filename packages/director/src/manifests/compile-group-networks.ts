import type { ManifestInstanceGroup } from '@refit/protocol';
import { formatIpv4, parseIpOrRange, type IpRange } from '../networking/ipv4.ts';
import { locateIp, subnetsForAz } from '../networking/subnet-lookup.ts';
import type { CompiledGroupNetwork, GroupContext } from './compile-manifest.ts';

/**
 * An instance group's networks: each known to the cloud config, one default for dns and
 * gateway when there are several, static IPs (ranges expanded) inside a static range of a
 * subnet in one of the group's AZs, never listed twice across the deployment, exactly one per
 * instance; a manual network has a subnet in every AZ of the group.
 */
export function compileGroupNetworks(
  g: ManifestInstanceGroup,
  path: string,
  azs: readonly string[],
  ctx: GroupContext,
): CompiledGroupNetwork[] {
  const { cloud, problems } = ctx;
  const several = g.networks.length > 1;
  for (const key of ['dns', 'gateway', 'addressable'] as const) {
    const defaults = g.networks.filter((n) => n.default?.includes(key)).length;
    if (several && (key === 'addressable' ? defaults > 1 : defaults !== 1)) {
      problems.add(
        `${path}.networks`,
        `${key === 'addressable' ? 'at most' : 'exactly'} one network must be the default for '${key}' (found ${defaults})`,
      );
    }
  }
  return g.networks.flatMap((n, j): CompiledGroupNetwork[] => {
    const npath = `${path}.networks[${j}]`;
    if (g.networks.findIndex((o) => o.name === n.name) !== j) {
      problems.add(`${npath}.name`, `network '${n.name}' is listed twice`);
    }
    const network = cloud.networks.get(n.name);
    if (network === undefined) {
      problems.add(`${npath}.name`, `unknown network '${n.name}'`);
      return [];
    }
    const staticIps: number[] = [];
    (n.static_ips ?? []).forEach((text, k) => {
      const range: IpRange | null = parseIpOrRange(text);
      if (range === null) {
        problems.add(`${npath}.static_ips[${k}]`, `'${text}' is not an IPv4 address or range`);
        return;
      }
      if (range.last - range.first >= 65536) {
        problems.add(`${npath}.static_ips[${k}]`, `'${text}' is too large a range`);
        return;
      }
      for (let ip = range.first; ip <= range.last; ip++) {
        const ipPath = `${npath}.static_ips[${k}]`;
        const shown = formatIpv4(ip);
        const owner = ctx.staticOwners.get(`${n.name}/${ip}`);
        if (owner !== undefined) problems.add(ipPath, `'${shown}' is already given to ${owner}`);
        else ctx.staticOwners.set(`${n.name}/${ip}`, ipPath);
        staticIps.push(ip);
        if (network.type !== 'manual') continue;
        const place = locateIp(network.subnets, ip);
        const where =
          network.subnets.length === 1
            ? `subnet ${network.subnets[0]?.range ?? ''}`
            : `every subnet of network '${n.name}'`;
        if (place.kind === 'outside') problems.add(ipPath, `'${shown}' is outside ${where}`);
        else if (place.kind === 'reserved')
          problems.add(ipPath, `'${shown}' is in the reserved range of subnet ${place.subnet.range}`);
        else if (place.kind === 'dynamic')
          problems.add(ipPath, `'${shown}' is not in the static range of subnet ${place.subnet.range}`);
        else if (
          azs.length > 0 &&
          place.subnet.azs.length > 0 &&
          !place.subnet.azs.some((az) => azs.includes(az))
        ) {
          problems.add(
            ipPath,
            `'${shown}' belongs to subnet ${place.subnet.range}, which is in none of the group's azs`,
          );
        }
      }
    });
    if (network.type === 'dynamic' && staticIps.length > 0) {
      problems.add(`${npath}.static_ips`, `network '${n.name}' is dynamic: it cannot have static IPs`);
    }
    if (staticIps.length > 0 && staticIps.length !== g.instances) {
      problems.add(
        `${npath}.static_ips`,
        staticIps.length < g.instances
          ? `not enough static IPs: ${g.instances} instances need ${g.instances}, ${staticIps.length} given`
          : `too many static IPs: ${staticIps.length} given for ${g.instances} instances`,
      );
    }
    if (network.type === 'vip' && staticIps.length === 0 && g.instances > 0) {
      problems.add(
        `${npath}.static_ips`,
        `network '${n.name}' is a vip network: each instance needs a static IP`,
      );
    }
    if (network.type === 'manual') {
      for (const az of azs.length > 0 ? azs : [null]) {
        if (subnetsForAz(network.subnets, az).length === 0) {
          problems.add(
            `${npath}.name`,
            `network '${n.name}' has no subnet ${az === null ? 'without an az' : `in az '${az}'`}`,
          );
        }
      }
    }
    return [
      {
        name: n.name,
        type: network.type,
        staticIps,
        // A lone network is the default for dns and gateway, plus what it names (BOSH).
        default: several ? (n.default ?? []) : [...new Set(['dns', 'gateway', ...(n.default ?? [])])],
      },
    ];
  });
}
