import { z } from 'zod';
import { CpiNetworks } from '@refit/protocol';

/** `vm.json`: written by create_vm, read by CPI calls and the VM's supervisor. */
export const VmRecord = z.object({
  cid: z.string(),
  agent_id: z.string(),
  stemcell_cid: z.string(),
  networks: CpiNetworks,
  cloud_properties: z.record(z.string(), z.unknown()),
  env: z.record(z.string(), z.unknown()),
  init_path: z.string(),
  host_busybox: z.string(),
  boot_timeout_ms: z.number().int().positive(),
  /** The boot step's staged-root policy (absent in VMs created before OS reload: defaults). */
  max_boot_attempts: z.number().int().positive().optional(),
  commit_deadline_ms: z.number().int().positive().optional(),
  created_at: z.string(),
});
export type VmRecord = z.infer<typeof VmRecord>;

export const DiskRecord = z.object({
  cid: z.string(),
  size_mib: z.number().nonnegative(),
  cloud_properties: z.record(z.string(), z.unknown()),
  vm_cid: z.string().nullable(),
  metadata: z.record(z.string(), z.unknown()),
  created_at: z.string(),
});
export type DiskRecord = z.infer<typeof DiskRecord>;

export const StemcellRecord = z.object({
  cid: z.string(),
  digest: z.string(),
  root: z.string(),
  cloud_properties: z.record(z.string(), z.unknown()),
  created_at: z.string(),
});
export type StemcellRecord = z.infer<typeof StemcellRecord>;

export const VmMetadata = z.record(z.string(), z.unknown());
