import { z } from 'zod';

/*
 * Director responses as a client reads them. The stock Go CLI decodes leniently (missing or null
 * fields become zero values, unknown fields are ignored) and fails only on wrong types; these
 * schemas do the same, so the refit CLI works against any BOSH-compatible director, not only
 * against refit-director. The director's own (strict) shapes are in api.ts and task.ts.
 */

const optionalString = z.string().nullish();

/** `GET /info`. */
export const InfoAsRead = z.object({
  name: optionalString,
  uuid: optionalString,
  version: optionalString,
  user: optionalString,
  cpi: optionalString,
  stemcell_os: optionalString,
  stemcell_version: optionalString,
  user_authentication: z
    .object({ type: optionalString, options: z.record(z.string(), z.unknown()).nullish() })
    .nullish(),
  features: z.record(z.string(), z.object({ status: z.boolean().nullish() })).nullish(),
});
export type InfoAsRead = z.infer<typeof InfoAsRead>;

/** `GET /stemcells` element, with Refit's optional `rootfs`. */
export const StemcellAsRead = z.object({
  name: optionalString,
  operating_system: optionalString,
  version: z.string().min(1, 'Expected version to be non-empty string'),
  cid: optionalString,
  cpi: optionalString,
  deployments: z.array(z.unknown()).nullish(),
  api_version: z.number().nullish(),
  rootfs: z.object({ version: z.string(), sha256: optionalString, size: z.number().nullish() }).nullish(),
});
export type StemcellAsRead = z.infer<typeof StemcellAsRead>;

/** `GET /rootfs` element. */
export const RootfsAsRead = z.object({
  name: z.string(),
  version: z.string(),
  operating_system: optionalString,
  sha256: optionalString,
  size: z.number().nullish(),
  created_at: optionalString,
  /** Key fingerprint of the rootfs.MF.sig signer (Refit's signed rootfs), absent when unsigned. */
  signed_by: optionalString,
});
export type RootfsAsRead = z.infer<typeof RootfsAsRead>;

/** `GET /tasks` element and `GET /tasks/<id>`: ids and times are numbers (unix seconds). */
export const TaskAsRead = z.object({
  id: z.number().int(),
  state: z.string(),
  description: optionalString,
  timestamp: z.number().nullish(),
  started_at: z.number().nullish(),
  result: optionalString,
  user: optionalString,
  deployment: optionalString,
  context_id: optionalString,
});
export type TaskAsRead = z.infer<typeof TaskAsRead>;

/** `GET /locks` element (`timeout` is a string float of unix seconds). */
export const LockAsRead = z.object({
  type: optionalString,
  resource: z.array(z.string()).nullish(),
  timeout: optionalString,
  task_id: optionalString,
});
export type LockAsRead = z.infer<typeof LockAsRead>;

/** `GET /events` element. */
export const EventAsRead = z.object({
  id: z.string(),
  parent_id: optionalString,
  timestamp: z.number(),
  user: optionalString,
  action: optionalString,
  object_type: optionalString,
  object_name: optionalString,
  task: optionalString,
  deployment: optionalString,
  instance: optionalString,
  context: z.record(z.string(), z.unknown()).nullish(),
  error: optionalString,
});
export type EventAsRead = z.infer<typeof EventAsRead>;

/** `GET /cloud_configs?limit=1` element. */
export const CloudConfigAsRead = z.object({ properties: z.string(), created_at: optionalString });

/** `POST /cloud_configs/diff`: each entry is `[line, "added" | "removed" | null]`. */
export const ConfigDiffAsRead = z.object({
  diff: z.array(z.tuple([z.string(), z.string().nullable()])).nullish(),
  error: optionalString,
});

/** `POST /stemcell_uploads` and `POST /rootfs_uploads`. */
export const UploadNeededAsRead = z.object({ needed: z.boolean() });
