import { z } from 'zod';

/*
 * The health monitor's wire shapes (reference §4.7): what it reads from the director, what it
 * sends to it, and the alert it hands to its log and to a webhook.
 */

/** Alert categories BOSH's health monitor uses (`events/alert.rb`). */
export const HmAlertCategory = { vmHealth: 'vm_health', deploymentHealth: 'deployment_health' } as const;
export type HmAlertCategory = (typeof HmAlertCategory)[keyof typeof HmAlertCategory];

/** Severities as the agent and the monitor number them: 1 alert, 2 critical, 3 error, 4 warning. */
export const HmSeverity = { alert: 1, critical: 2, error: 3, warning: 4 } as const;

/**
 * One alert, as the monitor logs it and POSTs it to a webhook: BOSH's `Alert#to_hash` plus the
 * attributes the monitor itself attaches (`job`, `instance_id`, `jobs_to_instance_ids`).
 */
export const HmAlert = z.object({
  kind: z.literal('alert'),
  id: z.string(),
  severity: z.number().int(),
  category: z.string().nullable(),
  title: z.string(),
  summary: z.string(),
  source: z.string().nullable(),
  deployment: z.string().nullable(),
  created_at: z.number().int(),
  job: z.string().nullable().optional(),
  instance_id: z.string().nullable().optional(),
  agent_id: z.string().nullable().optional(),
  jobs_to_instance_ids: z.record(z.string(), z.array(z.string())).optional(),
});
export type HmAlert = z.infer<typeof HmAlert>;

/** The webhook's JSON body: one alert per POST. */
export const HmWebhookPayload = HmAlert;
export type HmWebhookPayload = HmAlert;

/** `GET /deployments?exclude_configs=true&exclude_releases=true&exclude_stemcells=true` element. */
export const HmDeploymentListItem = z.object({
  name: z.string().min(1),
  locked: z.boolean().nullish(),
  teams: z.array(z.string()).nullish(),
});
export type HmDeploymentListItem = z.infer<typeof HmDeploymentListItem>;

/**
 * `GET /deployments/<d>/instances` element (reference §1.9): `agent_id`/`cid` null when the
 * instance has no VM. `disk_cid`/`disk_cids` are read when a director sends them (stateful
 * instances); BOSH's endpoint does not.
 */
export const HmInstanceListItem = z.object({
  id: z.string().min(1),
  job: z.string().min(1),
  index: z.number().int().nullish(),
  agent_id: z.string().nullish(),
  cid: z.string().nullish(),
  az: z.string().nullish(),
  ips: z.array(z.string()).nullish(),
  expects_vm: z.boolean().nullish(),
  disk_cid: z.string().nullish(),
  disk_cids: z.array(z.string()).nullish(),
});
export type HmInstanceListItem = z.infer<typeof HmInstanceListItem>;

/** `PUT /deployments/<d>/scan_and_fix` body (reference §1.11 step 4). */
export const ScanAndFixBody = z.object({ jobs: z.record(z.string(), z.array(z.string())) });
export type ScanAndFixBody = z.infer<typeof ScanAndFixBody>;

/** `GET /resurrection` answer: whether resurrection is paused director-wide. */
export const ResurrectionState = z.object({ resurrection_paused: z.boolean() });
export type ResurrectionState = z.infer<typeof ResurrectionState>;

/** `POST /events` body as BOSH's event_logger plugin sends it (only where a director offers it). */
export const HmEventBody = z.object({
  timestamp: z.string(),
  action: z.literal('create'),
  object_type: z.literal('alert'),
  object_name: z.string(),
  deployment: z.string().nullable(),
  instance: z.string().nullable(),
  context: z.object({ message: z.string() }),
});
export type HmEventBody = z.infer<typeof HmEventBody>;

const RuleFilter = z.object({
  deployments: z.array(z.string()).nullish(),
  instance_groups: z.array(z.string()).nullish(),
});

/** One rule of a `resurrection` config (`GET /configs?type=resurrection&latest=true` content). */
export const ResurrectionRule = z.object({
  enabled: z.boolean(),
  include: RuleFilter.nullish(),
  exclude: RuleFilter.nullish(),
});
export type ResurrectionRule = z.infer<typeof ResurrectionRule>;

/** A resurrection config's content (YAML): `rules: [{enabled, include, exclude}]`. */
export const ResurrectionConfigContent = z.object({ rules: z.array(ResurrectionRule).default([]) });
export type ResurrectionConfigContent = z.infer<typeof ResurrectionConfigContent>;

/** `GET /configs?type=resurrection&latest=true` element, as the monitor reads it. */
export const HmConfigListItem = z.object({ id: z.union([z.string(), z.number()]), content: z.string() });
export type HmConfigListItem = z.infer<typeof HmConfigListItem>;
