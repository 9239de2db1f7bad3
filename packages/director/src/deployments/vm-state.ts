import { z } from 'zod';
import type { AgentClient } from '../agent-client/agent-client.ts';
import type { DirectorDeps } from '../feature.ts';
import type { TaskHandler } from '../tasks/task-context.ts';
import { cpiNetworks } from '../updater/create-vm-step.ts';
import { DeploymentStore, type InstanceRecord } from './deployment-store.ts';

export const VMS_TASK = 'vms';

export const VmStateParams = z.object({
  deployment: z.string().min(1),
  /** One line per instance (`/instances?format=full`) or per VM (`/vms?format=full`). */
  perInstance: z.boolean(),
});
export type VmStateParams = z.infer<typeof VmStateParams>;

export function ipsOf(instance: InstanceRecord): string[] {
  const settings = instance.vm?.networkSettings ?? {};
  return Object.values(settings)
    .map((n) => n.ip)
    .filter((ip): ip is string => ip !== null);
}

/**
 * `vms` task (BOSH's jobs/vm_state.rb): one JSON line per VM (or per instance), with what the
 * agent answers to `get_state("full")` within 5 s, else `job_state: "unresponsive agent"`.
 */
export function vmStateTask(deps: DirectorDeps, agents: () => AgentClient): TaskHandler<VmStateParams> {
  return {
    type: VMS_TASK,
    parseParams: (raw) => VmStateParams.parse(raw),
    async run(ctx, params) {
      const store = new DeploymentStore(deps.db);
      const instances = (await store.instances(params.deployment)).filter(
        (i) => params.perInstance || i.vm !== null,
      );
      const lines = await Promise.all(instances.map((i) => stateLine(agents(), i, ctx.signal)));
      for (const line of lines) ctx.result.write(`${JSON.stringify(line)}\n`);
      return '';
    },
  };
}

async function stateLine(
  agents: AgentClient,
  instance: InstanceRecord,
  signal: AbortSignal,
): Promise<Record<string, unknown>> {
  let state: unknown = null;
  if (instance.vm !== null) {
    try {
      state = await agents.call(instance.vm.agentId, 'get_state', ['full'], {
        signal: AbortSignal.any([signal, AbortSignal.timeout(5000)]),
        replyTimeoutMs: 5000,
      });
    } catch {
      state = null;
    }
  }
  const full = state as {
    job_state?: string;
    processes?: unknown[];
    vitals?: unknown;
    stemcell?: { version?: string; name?: string; os?: string; root_digest?: string };
  } | null;
  const vm = instance.vm;
  return {
    vm_cid: vm?.cid ?? null,
    active: vm !== null,
    vm_created_at: vm?.createdAt ?? '',
    cloud_properties: vm?.cloudProperties ?? {},
    disk_cid: instance.disk?.cid ?? null,
    disk_cids: instance.disk ? [instance.disk.cid] : [],
    ips: ipsOf(instance),
    dns: [],
    agent_id: vm?.agentId ?? null,
    job_name: instance.group,
    index: instance.index,
    job_state: vm === null ? null : full === null ? 'unresponsive agent' : (full.job_state ?? 'unknown'),
    state: instance.state,
    vm_type: '',
    resource_pool: '',
    vitals: full?.vitals ?? null,
    processes: full?.processes ?? [],
    resurrection_paused: false,
    az: instance.az,
    id: instance.id,
    bootstrap: instance.index === 0,
    ignore: false,
    stemcell: vm ? { name: vm.stemcell.name, version: vm.stemcell.version, api_version: null } : null,
    ...(full?.stemcell ? { booted_stemcell: full.stemcell } : {}),
    networks: vm ? cpiNetworks(vm.networkSettings) : {},
  };
}
