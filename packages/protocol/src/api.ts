import { z } from 'zod';

/** `{"code": N, "description": "..."}`: every known director error over HTTP (reference §1.2). */
export const ErrorBody = z.object({ code: z.number().int(), description: z.string() });
export type ErrorBody = z.infer<typeof ErrorBody>;

const Feature = z.object({ status: z.boolean(), extras: z.record(z.string(), z.unknown()).optional() });

/** `GET /info` (reference §1.4). */
export const Info = z.object({
  name: z.string(),
  uuid: z.string(),
  version: z.string(),
  user: z.string().nullable(),
  cpi: z.string(),
  stemcell_os: z.string(),
  stemcell_version: z.string(),
  user_authentication: z.object({
    type: z.enum(['basic', 'uaa']),
    options: z.record(z.string(), z.unknown()),
  }),
  features: z.record(z.string(), Feature),
});
export type Info = z.infer<typeof Info>;

/** `POST /stemcell_uploads` and `POST /rootfs_uploads`. */
export const UploadCheckBody = z.object({
  stemcell: z.object({ name: z.string(), version: z.string() }).optional(),
  rootfs: z.object({ name: z.string(), version: z.string() }).optional(),
});
export const UploadCheckAnswer = z.object({ needed: z.boolean() });

/** JSON body of `POST /stemcells` or `POST /rootfs` for a remote artifact. */
export const RemoteUploadBody = z
  .object({ location: z.string().url(), sha1: z.string().optional() })
  .strict();
export type RemoteUploadBody = z.infer<typeof RemoteUploadBody>;

/** The rootfs information Refit adds to every `GET /stemcells` element. */
export const StemcellRootfs = z.object({ version: z.string(), sha256: z.string(), size: z.number().int() });
export type StemcellRootfs = z.infer<typeof StemcellRootfs>;

/** `GET /stemcells` element (reference §1.5) plus `rootfs`. */
export const StemcellListItem = z.object({
  name: z.string(),
  operating_system: z.string(),
  version: z.string().min(1),
  cid: z.string(),
  cpi: z.string(),
  deployments: z.array(z.object({ name: z.string() })),
  api_version: z.number().int().nullable(),
  id: z.number().int(),
  rootfs: StemcellRootfs.nullable(),
});
export type StemcellListItem = z.infer<typeof StemcellListItem>;

/** `GET /rootfs` element. */
export const RootfsListItem = z.object({
  name: z.string(),
  version: z.string(),
  operating_system: z.string(),
  api_version: z.number().int(),
  sha256: z.string(),
  size: z.number().int(),
  blobstore_id: z.string(),
  created_at: z.string(),
  /** Refit: the fingerprint of the trusted key whose rootfs.MF.sig verified; absent: unsigned. */
  signed_by: z.string().optional(),
});
export type RootfsListItem = z.infer<typeof RootfsListItem>;

/** `GET /locks` element: `timeout` is a string float of unix seconds (reference §1.12). */
export const LockItem = z.object({
  type: z.string(),
  resource: z.array(z.string()),
  timeout: z.string(),
  task_id: z.string(),
});
export type LockItem = z.infer<typeof LockItem>;

/** `GET /events` element (reference §1.12). */
export const EventItem = z.object({
  id: z.string(),
  parent_id: z.string().nullable(),
  timestamp: z.number().int(),
  user: z.string(),
  action: z.string(),
  object_type: z.string(),
  object_name: z.string().nullable(),
  task: z.string().nullable(),
  deployment: z.string().nullable(),
  instance: z.string().nullable(),
  context: z.record(z.string(), z.unknown()),
  error: z.string().nullable(),
});
export type EventItem = z.infer<typeof EventItem>;

/** `GET /configs` element and `POST /configs` body (reference §1.7). */
export const ConfigItem = z.object({
  id: z.string(),
  name: z.string(),
  type: z.string(),
  content: z.string(),
  created_at: z.string(),
  team: z.string().nullable(),
  current: z.boolean(),
});
export type ConfigItem = z.infer<typeof ConfigItem>;
export const CreateConfigBody = z.object({
  type: z.string().min(1),
  name: z.string().min(1),
  content: z.string(),
  expected_latest_id: z.string().optional(),
});

/** `GET /cloud_configs` element. */
export const CloudConfigItem = z.object({ properties: z.string(), created_at: z.string() });

/** `GET /configs/diff`-style answer used by cloud config diffs. */
export const DiffAnswer = z.object({
  diff: z.array(z.tuple([z.string(), z.enum(['added', 'removed']).nullable()])),
  error: z.string().optional(),
});
