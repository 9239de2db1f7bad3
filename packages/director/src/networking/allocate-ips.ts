import type { CompiledManualSubnet } from '../manifests/compile-cloud-config.ts';
import { inRanges } from './ipv4.ts';
import { subnetsForAz } from './subnet-lookup.ts';

/**
 * The lowest free dynamic address for an instance in `az`: inside a subnet of that AZ (in the
 * cloud config's order), not the network or broadcast address, not the gateway, not reserved,
 * not in the static ranges, and not `taken` (reservations of every deployment on the network,
 * and those already made by this plan). Pure. Null when the AZ's subnets are full.
 */
export function findFreeIp(
  subnets: readonly CompiledManualSubnet[],
  az: string | null,
  taken: ReadonlySet<number>,
): { readonly ip: number; readonly subnet: CompiledManualSubnet } | null {
  for (const subnet of subnetsForAz(subnets, az)) {
    for (let ip = subnet.cidr.network + 1; ip < subnet.cidr.broadcast; ip++) {
      if (ip === subnet.gateway || taken.has(ip)) continue;
      if (inRanges(subnet.reserved, ip) || inRanges(subnet.static, ip)) continue;
      return { ip, subnet };
    }
  }
  return null;
}
