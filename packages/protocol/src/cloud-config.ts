import { z } from 'zod';

/**
 * Cloud config (reference §4.1), as `POST /cloud_configs` stores it. Strict objects: unknown
 * keys are errors naming their path. Address checks (gateway in range, static not reserved…)
 * are in the director's `manifests/compile-cloud-config.ts`.
 */

const Name = z.string().min(1);
const Hash = z.record(z.string(), z.unknown());
/** `127.1.0.5` or a range `127.1.0.5 - 127.1.0.9`, as BOSH writes static and reserved lists. */
const AddressOrRange = z.string().min(1);

export const CloudAz = z.object({ name: Name, cloud_properties: Hash.optional() }).strict();
export type CloudAz = z.infer<typeof CloudAz>;

export const CloudVmType = z.object({ name: Name, cloud_properties: Hash.optional() }).strict();
export type CloudVmType = z.infer<typeof CloudVmType>;

export const CloudVmExtension = z.object({ name: Name, cloud_properties: Hash.optional() }).strict();
export type CloudVmExtension = z.infer<typeof CloudVmExtension>;

export const CloudDiskType = z
  .object({ name: Name, disk_size: z.number().int().positive(), cloud_properties: Hash.optional() })
  .strict();
export type CloudDiskType = z.infer<typeof CloudDiskType>;

export const ManualSubnet = z
  .object({
    name: Name.optional(),
    range: z.string().min(1),
    gateway: z.string().min(1),
    dns: z.array(z.string().min(1)).optional(),
    reserved: z.array(AddressOrRange).optional(),
    static: z.array(AddressOrRange).optional(),
    az: Name.optional(),
    azs: z.array(Name).optional(),
    cloud_properties: Hash.optional(),
  })
  .strict();
export type ManualSubnet = z.infer<typeof ManualSubnet>;

export const DynamicSubnet = z
  .object({
    dns: z.array(z.string().min(1)).optional(),
    az: Name.optional(),
    azs: z.array(Name).optional(),
    cloud_properties: Hash.optional(),
  })
  .strict();
export type DynamicSubnet = z.infer<typeof DynamicSubnet>;

export const ManualNetwork = z
  .object({ name: Name, type: z.literal('manual'), subnets: z.array(ManualSubnet).min(1) })
  .strict();
export const DynamicNetwork = z
  .object({
    name: Name,
    type: z.literal('dynamic'),
    dns: z.array(z.string().min(1)).optional(),
    cloud_properties: Hash.optional(),
    subnets: z.array(DynamicSubnet).optional(),
  })
  .strict();
export const VipNetwork = z
  .object({ name: Name, type: z.literal('vip'), cloud_properties: Hash.optional() })
  .strict();

/** `type` defaults to `manual`, as in BOSH. */
export const CloudNetwork = z.preprocess(
  (raw) =>
    typeof raw === 'object' && raw !== null && !Array.isArray(raw) && !('type' in raw)
      ? { ...raw, type: 'manual' }
      : raw,
  z.discriminatedUnion('type', [ManualNetwork, DynamicNetwork, VipNetwork]),
);
export type CloudNetwork = z.infer<typeof CloudNetwork>;

export const CloudCompilation = z
  .object({
    workers: z.number().int().positive(),
    reuse_compilation_vms: z.boolean().optional(),
    az: Name.optional(),
    vm_type: Name.optional(),
    vm_resources: z
      .object({
        cpu: z.number().int().positive(),
        ram: z.number().int().positive(),
        ephemeral_disk_size: z.number().int().positive(),
      })
      .strict()
      .optional(),
    cloud_properties: Hash.optional(),
    network: Name,
    env: Hash.optional(),
    orphan_workers: z.boolean().optional(),
  })
  .strict();
export type CloudCompilation = z.infer<typeof CloudCompilation>;

export const CloudConfig = z
  .object({
    azs: z.array(CloudAz).optional(),
    vm_types: z.array(CloudVmType).optional(),
    vm_extensions: z.array(CloudVmExtension).optional(),
    disk_types: z.array(CloudDiskType).optional(),
    networks: z.array(CloudNetwork).optional(),
    compilation: CloudCompilation.optional(),
  })
  .strict();
export type CloudConfig = z.infer<typeof CloudConfig>;
