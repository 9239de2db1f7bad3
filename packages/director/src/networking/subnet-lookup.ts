import type { CompiledManualSubnet } from '../manifests/compile-cloud-config.ts';
import { inCidr, inRanges } from './ipv4.ts';

/** Where an address falls in a manual network's subnets. */
export type IpPlace =
  | { readonly kind: 'outside' }
  | { readonly kind: 'reserved'; readonly subnet: CompiledManualSubnet }
  | { readonly kind: 'dynamic'; readonly subnet: CompiledManualSubnet }
  | { readonly kind: 'static'; readonly subnet: CompiledManualSubnet };

export function locateIp(subnets: readonly CompiledManualSubnet[], ip: number): IpPlace {
  const subnet = subnets.find((s) => inCidr(s.cidr, ip));
  if (subnet === undefined) return { kind: 'outside' };
  if (ip === subnet.gateway || ip === subnet.cidr.network || ip === subnet.cidr.broadcast) {
    return { kind: 'reserved', subnet };
  }
  if (inRanges(subnet.reserved, ip)) return { kind: 'reserved', subnet };
  if (inRanges(subnet.static, ip)) return { kind: 'static', subnet };
  return { kind: 'dynamic', subnet };
}

/** Subnets an instance in `az` may use: those naming it, or all when neither names an AZ. */
export function subnetsForAz(
  subnets: readonly CompiledManualSubnet[],
  az: string | null,
): CompiledManualSubnet[] {
  return subnets.filter((s) => (az === null ? s.azs.length === 0 : s.azs.includes(az)));
}
