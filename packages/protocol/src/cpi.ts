import { z } from 'zod';

/** CPI error types the director accepts (reference §2.1). Others are "Unknown CPI error". */
export const CpiErrorType = {
  CpiError: 'Bosh::Clouds::CpiError',
  NotSupported: 'Bosh::Clouds::NotSupported',
  NotImplemented: 'Bosh::Clouds::NotImplemented',
  CloudError: 'Bosh::Clouds::CloudError',
  VMNotFound: 'Bosh::Clouds::VMNotFound',
  NetworkNotFound: 'Bosh::Clouds::NetworkNotFound',
  NoDiskSpace: 'Bosh::Clouds::NoDiskSpace',
  DiskNotAttached: 'Bosh::Clouds::DiskNotAttached',
  DiskNotFound: 'Bosh::Clouds::DiskNotFound',
  VMCreationFailed: 'Bosh::Clouds::VMCreationFailed',
} as const;
export type CpiErrorType = (typeof CpiErrorType)[keyof typeof CpiErrorType];

export const CpiMethod = z.enum([
  'info',
  'create_stemcell',
  'delete_stemcell',
  'create_vm',
  'delete_vm',
  'has_vm',
  'reboot_vm',
  'set_vm_metadata',
  'calculate_vm_cloud_properties',
  'create_disk',
  'delete_disk',
  'attach_disk',
  'detach_disk',
  'has_disk',
  'get_disks',
  'resize_disk',
  'update_disk',
  'set_disk_metadata',
  'snapshot_disk',
  'delete_snapshot',
]);
export type CpiMethod = z.infer<typeof CpiMethod>;

/** One CPI request on stdin (reference §2.1). */
export const CpiRequest = z.object({
  method: z.string(),
  arguments: z.array(z.unknown()),
  context: z.record(z.string(), z.unknown()),
  api_version: z.number().int().optional(),
});
export type CpiRequest = z.infer<typeof CpiRequest>;

export const CpiError = z.object({ type: z.string(), message: z.string(), ok_to_retry: z.boolean() });
export type CpiError = z.infer<typeof CpiError>;

/** One CPI response on stdout, validated strictly as the Ruby director does. */
export const CpiResponse = z.object({
  result: z.unknown(),
  error: CpiError.nullable(),
  log: z.string(),
});
export type CpiResponse = z.infer<typeof CpiResponse>;

export const CpiInfo = z.object({
  api_version: z.number().int().optional(),
  stemcell_formats: z.array(z.string()).default([]),
});
export type CpiInfo = z.infer<typeof CpiInfo>;

/** `networks` argument of `create_vm`, keyed by network name (reference §2.2). */
export const CpiNetwork = z.object({
  type: z.enum(['manual', 'dynamic', 'vip']),
  ip: z.string().optional(),
  prefix: z.string().optional(),
  netmask: z.string().optional(),
  gateway: z.string().optional(),
  dns: z.array(z.string()).optional(),
  default: z.array(z.string()).optional(),
  cloud_properties: z.record(z.string(), z.unknown()).default({}),
});
export const CpiNetworks = z.record(z.string(), CpiNetwork);
export type CpiNetworks = z.infer<typeof CpiNetworks>;
