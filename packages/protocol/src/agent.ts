import { z } from 'zod';

/** Director → agent request on `agent.<agent_id>` (reference §3.1). */
export const AgentRequest = z.object({
  protocol: z.number().int().optional(),
  method: z.string(),
  arguments: z.array(z.unknown()).default([]),
  reply_to: z.string().min(1),
});
export type AgentRequest = z.infer<typeof AgentRequest>;

/** Agent → director reply: a value or an exception. */
export const AgentResponse = z.union([
  z.object({ value: z.unknown() }),
  z.object({ exception: z.object({ message: z.string() }) }),
]);
export type AgentResponse = z.infer<typeof AgentResponse>;

/** The immediate reply of an asynchronous action, and of `get_task` while it runs. */
export const AgentTaskRunning = z.object({ agent_task_id: z.string(), state: z.literal('running') });

const SettingsNetwork = z
  .object({
    type: z.enum(['manual', 'dynamic', 'vip']).default('manual'),
    ip: z.string().optional(),
    netmask: z.string().optional(),
    gateway: z.string().optional(),
    dns: z.array(z.string()).optional(),
    default: z.array(z.string()).optional(),
    mac: z.string().optional(),
    preconfigured: z.boolean().optional(),
    cloud_properties: z.record(z.string(), z.unknown()).optional(),
  })
  .passthrough();

export const BlobstoreSettings = z.object({
  provider: z.string(),
  options: z.record(z.string(), z.unknown()).default({}),
});
export type BlobstoreSettings = z.infer<typeof BlobstoreSettings>;

/** The agent settings document the CPI hands to the VM (reference §2.3). */
export const AgentSettings = z
  .object({
    agent_id: z.string().min(1),
    vm: z.object({ name: z.string(), id: z.string().optional() }).passthrough(),
    mbus: z.string().min(1),
    ntp: z.array(z.string()).default([]),
    blobstore: BlobstoreSettings.optional(),
    networks: z.record(z.string(), SettingsNetwork),
    disks: z
      .object({
        system: z.string().optional(),
        ephemeral: z
          .union([z.string(), z.record(z.string(), z.unknown())])
          .nullable()
          .optional(),
        persistent: z.record(z.string(), z.unknown()).default({}),
        raw_ephemeral: z.unknown().optional(),
      })
      .passthrough(),
    env: z.record(z.string(), z.unknown()).default({}),
  })
  .passthrough();
export type AgentSettings = z.infer<typeof AgentSettings>;

/** Heartbeat on `hm.agent.heartbeat.<agent_id>` (reference §3.2), plus Refit's booted OS. */
export const Heartbeat = z.object({
  deployment: z.string().nullable(),
  job: z.string().nullable(),
  index: z.number().int().nullable(),
  job_state: z.string(),
  node_id: z.string().nullable(),
  number_of_processes: z.number().int(),
  vitals: z.record(z.string(), z.unknown()),
  stemcell: z
    .object({ name: z.string().optional(), version: z.string(), root_digest: z.string().optional() })
    .optional(),
});
export type Heartbeat = z.infer<typeof Heartbeat>;
