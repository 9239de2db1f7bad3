import { CloudConfig, type ManualSubnet } from '@refit/protocol';
import { inCidr, parseCidr, parseIpOrRange, parseIpv4, type Cidr, type IpRange } from '../networking/ipv4.ts';
import { ProblemList } from './manifest-invalid.ts';
import { parseDocument } from './parse-document.ts';

export type Hash = Readonly<Record<string, unknown>>;

export interface CompiledAz {
  readonly name: string;
  readonly cloudProperties: Hash;
}
export interface CompiledVmType {
  readonly name: string;
  readonly cloudProperties: Hash;
}
export interface CompiledDiskType {
  readonly name: string;
  readonly diskSize: number;
  readonly cloudProperties: Hash;
}
export interface CompiledManualSubnet {
  /** The subnet as written, e.g. `127.1.0.0/24`. */
  readonly range: string;
  readonly cidr: Cidr;
  readonly gateway: number;
  readonly dns: readonly string[];
  readonly reserved: readonly IpRange[];
  readonly static: readonly IpRange[];
  /** Empty when the subnet names no AZ. */
  readonly azs: readonly string[];
  readonly cloudProperties: Hash;
}
export interface CompiledDynamicSubnet {
  readonly azs: readonly string[];
  readonly dns: readonly string[];
  readonly cloudProperties: Hash;
}
export type CompiledNetwork =
  | { readonly type: 'manual'; readonly name: string; readonly subnets: readonly CompiledManualSubnet[] }
  | { readonly type: 'dynamic'; readonly name: string; readonly subnets: readonly CompiledDynamicSubnet[] }
  | { readonly type: 'vip'; readonly name: string; readonly cloudProperties: Hash };

export interface CompiledCompilation {
  readonly workers: number;
  readonly reuseCompilationVms: boolean;
  readonly az: string | null;
  readonly vmType: string | null;
  readonly vmResources: {
    readonly cpu: number;
    readonly ram: number;
    readonly ephemeralDiskSize: number;
  } | null;
  readonly cloudProperties: Hash;
  readonly network: string;
  readonly env: Hash;
  readonly orphanWorkers: boolean;
}

/** A cloud config validated once, with defaults applied. Maps keep the document's order. */
export interface CompiledCloudConfig {
  readonly azs: ReadonlyMap<string, CompiledAz>;
  readonly vmTypes: ReadonlyMap<string, CompiledVmType>;
  readonly vmExtensions: ReadonlyMap<string, CompiledVmType>;
  readonly diskTypes: ReadonlyMap<string, CompiledDiskType>;
  readonly networks: ReadonlyMap<string, CompiledNetwork>;
  readonly compilation: CompiledCompilation | null;
}

const DOCUMENT = 'cloud config';

type AzsOf = (
  path: string,
  subnet: { readonly az?: string | undefined; readonly azs?: readonly string[] | undefined },
) => readonly string[];

/** Parses (YAML text or a parsed value) and validates a cloud config; throws ManifestInvalid. */
export function compileCloudConfig(input: unknown): CompiledCloudConfig {
  const raw = parseDocument(CloudConfig, input, DOCUMENT);
  const problems = new ProblemList();

  const azs = byName(raw.azs ?? [], 'azs', problems, (az) => ({
    name: az.name,
    cloudProperties: az.cloud_properties ?? {},
  }));
  const vmTypes = byName(raw.vm_types ?? [], 'vm_types', problems, (t) => ({
    name: t.name,
    cloudProperties: t.cloud_properties ?? {},
  }));
  const vmExtensions = byName(raw.vm_extensions ?? [], 'vm_extensions', problems, (t) => ({
    name: t.name,
    cloudProperties: t.cloud_properties ?? {},
  }));
  const diskTypes = byName(raw.disk_types ?? [], 'disk_types', problems, (t) => ({
    name: t.name,
    diskSize: t.disk_size,
    cloudProperties: t.cloud_properties ?? {},
  }));

  const subnetAzs: AzsOf = (path, subnet) => {
    if (subnet.az !== undefined && subnet.azs !== undefined) {
      problems.add(path, "use either 'az' or 'azs', not both");
    }
    const names = subnet.azs ?? (subnet.az === undefined ? [] : [subnet.az]);
    names.forEach((name, i) => {
      if (!azs.has(name)) {
        problems.add(subnet.azs ? `${path}.azs[${i}]` : `${path}.az`, `unknown az '${name}'`);
      }
    });
    return names;
  };

  const networks = byName(raw.networks ?? [], 'networks', problems, (network, i): CompiledNetwork => {
    const path = `networks[${i}]`;
    switch (network.type) {
      case 'manual':
        return {
          type: 'manual',
          name: network.name,
          subnets: network.subnets.map((s, j) =>
            compileManualSubnet(`${path}.subnets[${j}]`, s, problems, subnetAzs),
          ),
        };
      case 'dynamic': {
        const subnets = network.subnets ?? [{}];
        return {
          type: 'dynamic',
          name: network.name,
          subnets: subnets.map((s, j) => ({
            azs: subnetAzs(`${path}.subnets[${j}]`, s),
            dns: s.dns ?? network.dns ?? [],
            cloudProperties: s.cloud_properties ?? network.cloud_properties ?? {},
          })),
        };
      }
      case 'vip':
        return { type: 'vip', name: network.name, cloudProperties: network.cloud_properties ?? {} };
    }
  });

  let compilation: CompiledCompilation | null = null;
  if (raw.compilation !== undefined) {
    const c = raw.compilation;
    if (c.az !== undefined && !azs.has(c.az)) problems.add('compilation.az', `unknown az '${c.az}'`);
    if (c.vm_type !== undefined && !vmTypes.has(c.vm_type)) {
      problems.add('compilation.vm_type', `unknown vm_type '${c.vm_type}'`);
    }
    if (c.vm_type !== undefined && c.vm_resources !== undefined) {
      problems.add('compilation', "use either 'vm_type' or 'vm_resources', not both");
    }
    if (!networks.has(c.network)) problems.add('compilation.network', `unknown network '${c.network}'`);
    compilation = {
      workers: c.workers,
      reuseCompilationVms: c.reuse_compilation_vms ?? false,
      az: c.az ?? null,
      vmType: c.vm_type ?? null,
      vmResources: c.vm_resources
        ? {
            cpu: c.vm_resources.cpu,
            ram: c.vm_resources.ram,
            ephemeralDiskSize: c.vm_resources.ephemeral_disk_size,
          }
        : null,
      cloudProperties: c.cloud_properties ?? {},
      network: c.network,
      env: c.env ?? {},
      orphanWorkers: c.orphan_workers ?? false,
    };
  }

  problems.throwIfAny(DOCUMENT);
  return { azs, vmTypes, vmExtensions, diskTypes, networks, compilation };
}

function compileManualSubnet(
  path: string,
  subnet: ManualSubnet,
  problems: ProblemList,
  subnetAzs: AzsOf,
): CompiledManualSubnet {
  const cidr = parseCidr(subnet.range);
  if (cidr === null) problems.add(`${path}.range`, `'${subnet.range}' is not an IPv4 CIDR range`);
  const inside = (ip: number) => cidr === null || inCidr(cidr, ip);
  const gateway = parseIpv4(subnet.gateway);
  if (gateway === null) problems.add(`${path}.gateway`, `'${subnet.gateway}' is not an IPv4 address`);
  else if (!inside(gateway)) {
    problems.add(`${path}.gateway`, `'${subnet.gateway}' is outside subnet ${subnet.range}`);
  }
  const ranges = (key: 'reserved' | 'static'): IpRange[] =>
    (subnet[key] ?? []).flatMap((text, i) => {
      const range = parseIpOrRange(text);
      if (range === null) {
        problems.add(`${path}.${key}[${i}]`, `'${text}' is not an IPv4 address or range`);
        return [];
      }
      if (!inside(range.first) || !inside(range.last)) {
        problems.add(`${path}.${key}[${i}]`, `'${text}' is outside subnet ${subnet.range}`);
        return [];
      }
      return [range];
    });
  const reserved = ranges('reserved');
  const statics = ranges('static');
  statics.forEach((s) => {
    const clash = reserved.find((r) => s.first <= r.last && r.first <= s.last);
    if (clash) {
      problems.add(`${path}.static`, 'static range overlaps the reserved range');
    }
    if (gateway !== null && s.first <= gateway && gateway <= s.last) {
      problems.add(`${path}.static`, 'static range contains the gateway');
    }
  });
  return {
    range: subnet.range,
    cidr: cidr ?? { network: 0, prefix: 32, broadcast: 0, netmask: 0 },
    gateway: gateway ?? 0,
    dns: subnet.dns ?? [],
    reserved,
    static: statics,
    azs: subnetAzs(path, subnet),
    cloudProperties: subnet.cloud_properties ?? {},
  };
}

function byName<T extends { readonly name: string }, C>(
  items: readonly T[],
  path: string,
  problems: ProblemList,
  compile: (item: T, index: number) => C,
): Map<string, C> {
  const out = new Map<string, C>();
  items.forEach((item, i) => {
    if (out.has(item.name)) problems.add(`${path}[${i}].name`, `duplicate name '${item.name}'`);
    else out.set(item.name, compile(item, i));
  });
  return out;
}
