import { isIP } from 'node:net';
import type { CpiNetworks } from '@refit/protocol';
import { CpiFailure } from './cpi-failure.ts';

/** True for 127.0.0.0/8, ::1 and `localhost`: the only addresses a local VM may use. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '');
  if (h === 'localhost') return true;
  if (isIP(h) === 4) return h.split('.')[0] === '127';
  if (isIP(h) === 6) return h === '::1' || h === '0:0:0:0:0:0:0:1';
  return false;
}

/**
 * VMs share the host's network namespace, so every address a manifest gives them must be a
 * loopback one: anything else is refused before a VM exists, naming the network and address.
 */
export function checkLoopbackNetworks(networks: CpiNetworks): void {
  for (const [name, network] of Object.entries(networks)) {
    if (network.ip === undefined) {
      throw CpiFailure.cloud(
        `network '${name}' (${network.type}) has no IP: refit-cpi-local cannot allocate addresses; ` +
          'use a manual network with an address in 127.0.0.0/8',
      );
    }
    if (isIP(network.ip) !== 4 || !isLoopbackHost(network.ip)) {
      throw CpiFailure.cloud(
        `network '${name}': IP ${network.ip} is not in 127.0.0.0/8; refit-cpi-local VMs share the ` +
          'host network and may only use loopback addresses',
      );
    }
    if (network.gateway !== undefined && network.gateway !== '' && !isLoopbackHost(network.gateway)) {
      throw CpiFailure.cloud(
        `network '${name}': gateway ${network.gateway} is not in 127.0.0.0/8 (loopback only)`,
      );
    }
  }
}
