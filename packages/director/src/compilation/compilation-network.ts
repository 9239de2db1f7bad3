import type { Db } from '../db/db.ts';
import type { CompiledCloudConfig } from '../manifests/compile-cloud-config.ts';
import { DbIpReservationStore, findFreeIp, formatIpv4, parseIpv4 } from '../networking/index.ts';
import type { NetworkSettings } from '../planner/plan-types.ts';
import { PackageCompilationFailed } from './package-compilation-failed.ts';

/**
 * The compilation network's settings for one compilation VM, with a free address reserved for
 * `instanceId` on a manual network. Callers serialise calls (two VMs must not pick one IP).
 */
export async function compilationNetwork(
  db: Db,
  cloudConfig: CompiledCloudConfig,
  deployment: string,
  instanceId: string,
): Promise<NetworkSettings> {
  const compilation = cloudConfig.compilation;
  const network = compilation ? cloudConfig.networks.get(compilation.network) : undefined;
  if (!compilation || !network)
    throw new PackageCompilationFailed(`compilation network '${compilation?.network ?? ''}' not found`);
  if (network.type !== 'manual') {
    return {
      [network.name]: {
        type: network.type === 'vip' ? 'vip' : 'dynamic',
        ip: null,
        netmask: null,
        gateway: null,
        dns: [],
        default: ['dns', 'gateway'],
        cloudProperties:
          network.type === 'vip' ? network.cloudProperties : (network.subnets[0]?.cloudProperties ?? {}),
      },
    };
  }
  const rows = await db.query<{ ip: string }>('SELECT ip FROM ip_reservations WHERE network = $1', [
    network.name,
  ]);
  const taken = new Set(rows.map((r) => parseIpv4(r.ip)).filter((ip): ip is number => ip !== null));
  const found = findFreeIp(network.subnets, compilation.az, taken);
  if (!found)
    throw new PackageCompilationFailed(`no free address on network '${network.name}' for a compilation VM`);
  const ip = formatIpv4(found.ip);
  await new DbIpReservationStore(db).apply({
    add: [{ deployment, instanceId, network: network.name, ip, type: 'dynamic' }],
    release: [],
  });
  return {
    [network.name]: {
      type: 'manual',
      ip,
      netmask: formatIpv4(found.subnet.cidr.netmask),
      gateway: formatIpv4(found.subnet.gateway),
      dns: [...found.subnet.dns],
      default: ['dns', 'gateway'],
      cloudProperties: found.subnet.cloudProperties,
    },
  };
}
