import { z } from 'zod';
import type { CpiMethodHandler } from '../context.ts';
import { parseArgs } from './parse-args.ts';

const Args = z
  .tuple([
    z.object({
      cpu: z.number().int().positive(),
      ram: z.number().int().positive(),
      ephemeral_disk_size: z.number().int().nonnegative(),
    }),
  ])
  .rest(z.unknown());

/** Local VMs share the host: the requested resources are recorded, not enforced. */
export const calculateVmCloudProperties: CpiMethodHandler = {
  method: 'calculate_vm_cloud_properties',
  run(_ctx, args) {
    const [{ cpu, ram, ephemeral_disk_size }] = parseArgs('calculate_vm_cloud_properties', Args, args);
    return Promise.resolve({ cpu, ram, ephemeral_disk_size });
  },
};
