// The demo's cloud config and manifests: 3 instances of `web` in 2 AZs on 127.x addresses, each
// with a persistent disk, on stemcell `refit-quick` of a given version.
import { stringify } from 'yaml';
import { RELEASE } from './sample-release.ts';

export const DEPLOYMENT = 'quick';
export const STEMCELL = { name: 'refit-quick', os: 'refit-minimal', v1: '1.1', v2: '1.2' } as const;

/** `net` is the third octet: z1 gets 127.0.<net>.0/24, z2 127.0.<net+1>.0/24. */
export function cloudConfig(net: number): string {
  return stringify({
    azs: [{ name: 'z1' }, { name: 'z2' }],
    vm_types: [{ name: 'default' }],
    disk_types: [{ name: 'small', disk_size: 64 }],
    networks: [
      {
        name: 'default',
        type: 'manual',
        subnets: [
          { range: `127.0.${net}.0/24`, gateway: `127.0.${net}.1`, az: 'z1' },
          { range: `127.0.${net + 1}.0/24`, gateway: `127.0.${net + 1}.1`, az: 'z2' },
        ],
      },
    ],
    compilation: { workers: 1, az: 'z1', vm_type: 'default', network: 'default' },
  });
}

export function manifest(stemcellVersion: string): string {
  return stringify({
    name: DEPLOYMENT,
    releases: [{ name: RELEASE.name, version: RELEASE.version }],
    stemcells: [{ alias: 'default', os: STEMCELL.os, version: stemcellVersion }],
    update: {
      canaries: 1,
      max_in_flight: 1,
      canary_watch_time: '1000-60000',
      update_watch_time: '1000-60000',
    },
    instance_groups: [
      {
        name: 'web',
        azs: ['z1', 'z2'],
        instances: 3,
        jobs: [{ name: 'web', release: RELEASE.name, properties: {} }],
        vm_type: 'default',
        stemcell: 'default',
        persistent_disk_type: 'small',
        networks: [{ name: 'default' }],
      },
    ],
  });
}
