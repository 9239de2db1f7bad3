import type { Hash } from '../manifests/compile-cloud-config.ts';
import type { NetworkSettings } from '../planner/plan-types.ts';
import { BugError } from '../errors.ts';
import { cpiCall, instanceLabel } from './instance-label.ts';
import type { InstanceTarget, StoredVm, UpdaterDeps } from './updater-ports.ts';

/** Networks as the CPI and the agent see them (BOSH's snake_case spec `networks`). */
export function cpiNetworks(settings: NetworkSettings): Record<string, Hash> {
  const out: Record<string, Hash> = {};
  for (const [name, n] of Object.entries(settings)) {
    out[name] = {
      type: n.type,
      ...(n.ip !== null ? { ip: n.ip } : {}),
      ...(n.netmask !== null ? { netmask: n.netmask } : {}),
      ...(n.gateway !== null ? { gateway: n.gateway } : {}),
      dns: [...n.dns],
      default: [...n.default],
      cloud_properties: n.cloudProperties,
    };
  }
  return out;
}

/**
 * Reference §4.4 A.1–3: `create_vm` with a new agent id, `set_vm_metadata`, then wait for the
 * agent. The VM is recorded as soon as the IaaS has it, so a failure after this leaves no
 * VM unknown to the director.
 */
export async function createVmStep(
  deps: UpdaterDeps,
  target: InstanceTarget,
  diskCids: readonly string[],
): Promise<StoredVm> {
  const { plan } = target;
  if (target.stemcellCid === null || plan.stemcell === null) {
    throw new BugError(`instance ${instanceLabel(plan)} has no stemcell to create a VM from`);
  }
  const agentId = deps.newAgentId();
  const groupBosh =
    typeof plan.env.bosh === 'object' && plan.env.bosh !== null ? (plan.env.bosh as Hash) : {};
  const env = {
    ...plan.env,
    bosh: {
      ...groupBosh,
      ...deps.agentEnv,
      group: `${deps.deployment}-${plan.group}`,
      groups: [deps.deployment, plan.group],
    },
  };
  const answered = await cpiCall(
    deps,
    'create_vm',
    [
      agentId,
      target.stemcellCid,
      plan.cloudProperties,
      cpiNetworks(plan.networkSettings),
      [...diskCids],
      env,
    ],
    target.stemcellApiVersion,
  );
  const cid = vmCidOf(answered);
  const vm: StoredVm = {
    cid,
    agentId,
    stemcell: { name: plan.stemcell.name, version: plan.stemcell.version },
    cloudProperties: plan.cloudProperties,
    env: plan.env,
    networkSettings: plan.networkSettings,
    createdAt: new Date(deps.clock.now()).toISOString().replace(/\.\d{3}Z$/, 'Z'),
  };
  await deps.store.vmCreated(plan.id, vm);
  await deps.record({
    action: 'create',
    objectType: 'vm',
    objectName: cid,
    instance: `${plan.group}/${plan.id}`,
  });
  await cpiCall(deps, 'set_vm_metadata', [
    cid,
    {
      director: 'refit',
      deployment: deps.deployment,
      job: plan.group,
      instance_group: plan.group,
      index: String(plan.index),
      id: plan.id,
      name: `${plan.group}/${plan.id}`,
      created_at: vm.createdAt,
      ...plan.tags,
    },
  ]);
  await deps.agents.waitUntilReady(agentId, cid, {
    signal: deps.signal,
    timeoutMs: deps.agentWaitTimeoutMs ?? 600_000,
  });
  return vm;
}

/** `create_vm` answers the CID, or with CPI API v2 `[cid, networks]`. */
export function vmCidOf(answered: unknown): string {
  const cid = Array.isArray(answered) ? (answered as unknown[])[0] : answered;
  if (typeof cid !== 'string' || cid === '')
    throw new BugError(`create_vm answered ${JSON.stringify(answered)}`);
  return cid;
}
