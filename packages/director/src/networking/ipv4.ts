/**
 * IPv4 arithmetic on plain numbers (0 … 2^32-1). Pure: the planner uses it. IPv6 is not
 * supported yet: an IPv6 address is reported as not an IPv4 address.
 */

/** An inclusive range of addresses. */
export interface IpRange {
  readonly first: number;
  readonly last: number;
}

/** A CIDR block: `network` is its first address, `broadcast` its last. */
export interface Cidr {
  readonly network: number;
  readonly prefix: number;
  readonly broadcast: number;
  readonly netmask: number;
}

export function parseIpv4(text: string): number | null {
  const parts = text.trim().split('.');
  if (parts.length !== 4) return null;
  let value = 0;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part)) return null;
    const octet = Number(part);
    if (octet > 255) return null;
    value = value * 256 + octet;
  }
  return value;
}

export function formatIpv4(value: number): string {
  return [value >>> 24, (value >>> 16) & 255, (value >>> 8) & 255, value & 255].join('.');
}

export function parseCidr(text: string): Cidr | null {
  const [address, prefixText, extra] = text.trim().split('/');
  if (address === undefined || prefixText === undefined || extra !== undefined) return null;
  if (!/^\d{1,2}$/.test(prefixText)) return null;
  const prefix = Number(prefixText);
  const ip = parseIpv4(address);
  if (ip === null || prefix > 32) return null;
  const size = 2 ** (32 - prefix);
  const network = ip - (ip % size);
  return { network, prefix, broadcast: network + size - 1, netmask: 2 ** 32 - size };
}

/** `127.1.0.5` or `127.1.0.5 - 127.1.0.9` (BOSH's static/reserved syntax). */
export function parseIpOrRange(text: string): IpRange | null {
  const pieces = text.split('-');
  if (pieces.length === 1) {
    const ip = parseIpv4(text);
    return ip === null ? null : { first: ip, last: ip };
  }
  if (pieces.length !== 2) return null;
  const first = parseIpv4(pieces[0] ?? '');
  const last = parseIpv4(pieces[1] ?? '');
  if (first === null || last === null || first > last) return null;
  return { first, last };
}

export function inCidr(cidr: Cidr, ip: number): boolean {
  return ip >= cidr.network && ip <= cidr.broadcast;
}

export function inRanges(ranges: readonly IpRange[], ip: number): boolean {
  return ranges.some((r) => ip >= r.first && ip <= r.last);
}

export function rangeSize(range: IpRange): number {
  return range.last - range.first + 1;
}

/** Every address of the ranges, in order. Callers bound the size first. */
export function* addressesOf(ranges: readonly IpRange[]): Generator<number> {
  for (const r of ranges) for (let ip = r.first; ip <= r.last; ip++) yield ip;
}
