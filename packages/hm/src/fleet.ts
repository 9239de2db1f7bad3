import type { HmDeploymentListItem, HmInstanceListItem } from '@refit/protocol';

/** What the monitor knows about one agent (BOSH's `Agent`). Times are ms since the epoch. */
export interface AgentRecord {
  readonly id: string;
  deployment: string | null;
  job: string | null;
  instanceId: string | null;
  index: number | null;
  cid: string | null;
  /** When the monitor first heard of it (rogue alerts count from here). */
  readonly discoveredAt: number;
  /** Last heartbeat (or discovery). */
  updatedAt: number;
  jobState: string | null;
}

export interface InstanceRecord {
  readonly id: string;
  readonly deployment: string;
  readonly job: string;
  readonly index: number | null;
  readonly agentId: string | null;
  readonly cid: string | null;
  readonly expectsVm: boolean;
  /** Has a persistent disk (when the director says so). */
  readonly stateful: boolean;
}

export interface DeploymentRecord {
  readonly name: string;
  locked: boolean;
  instances: Map<string, InstanceRecord>;
  agents: Map<string, AgentRecord>;
}

export type EventKind = 'heartbeat' | 'alert' | 'shutdown';

/** How an agent message was attributed. */
export type Attribution =
  | { readonly kind: 'managed'; readonly agent: AgentRecord }
  | { readonly kind: 'unmanaged'; readonly agent: AgentRecord; readonly firstSeen: boolean }
  | { readonly kind: 'ignored' };

/**
 * The monitor's picture of deployments, instances and agents (BOSH's `InstanceManager` state),
 * as plain data: every method takes `now` so a test can replay a timeline without a clock.
 */
export class Fleet {
  readonly deployments = new Map<string, DeploymentRecord>();
  /** Agents that belong to no deployment the director listed. */
  readonly unmanaged = new Map<string, AgentRecord>();

  /** `GET /deployments`: adds new ones, drops those the director no longer lists. */
  syncDeployments(list: readonly HmDeploymentListItem[]): void {
    const names = new Set(list.map((d) => d.name));
    for (const item of list) {
      const existing = this.deployments.get(item.name);
      if (existing) existing.locked = item.locked === true;
      else
        this.deployments.set(item.name, {
          name: item.name,
          locked: item.locked === true,
          instances: new Map(),
          agents: new Map(),
        });
    }
    for (const name of [...this.deployments.keys()]) if (!names.has(name)) this.deployments.delete(name);
  }

  /** `GET /deployments/<d>/instances`: instances and the agents of those that have a VM. */
  syncInstances(deploymentName: string, list: readonly HmInstanceListItem[], now: number): void {
    const deployment = this.deployments.get(deploymentName);
    if (!deployment) return;
    const instances = new Map<string, InstanceRecord>();
    const agents = new Map<string, AgentRecord>();
    for (const item of list) {
      const instance: InstanceRecord = {
        id: item.id,
        deployment: deploymentName,
        job: item.job,
        index: item.index ?? null,
        agentId: item.agent_id ?? null,
        cid: item.cid ?? null,
        expectsVm: item.expects_vm ?? true,
        stateful: (item.disk_cid ?? null) !== null || (item.disk_cids ?? []).length > 0,
      };
      instances.set(instance.id, instance);
      if (instance.agentId === null) continue;
      // An agent keeps its last heartbeat across syncs, and across moving from unmanaged.
      const known = deployment.agents.get(instance.agentId) ?? this.unmanaged.get(instance.agentId);
      const agent: AgentRecord = known ?? {
        id: instance.agentId,
        deployment: null,
        job: null,
        instanceId: null,
        index: null,
        cid: null,
        discoveredAt: now,
        updatedAt: now,
        jobState: null,
      };
      agent.deployment = deploymentName;
      agent.job = instance.job;
      agent.instanceId = instance.id;
      agent.index = instance.index;
      agent.cid = instance.cid;
      agents.set(agent.id, agent);
      this.unmanaged.delete(agent.id);
    }
    deployment.instances = instances;
    deployment.agents = agents;
  }

  findManaged(agentId: string): AgentRecord | undefined {
    for (const deployment of this.deployments.values()) {
      const agent = deployment.agents.get(agentId);
      if (agent) return agent;
    }
    return undefined;
  }

  /**
   * Attributes a message on `hm.agent.<kind>.<agentId>`: a managed agent, an unmanaged one
   * (created on first contact, as BOSH does), or ignored (a shutdown from an unknown agent).
   */
  attribute(kind: EventKind, agentId: string, now: number): Attribution {
    const managed = this.findManaged(agentId);
    if (managed) return { kind: 'managed', agent: managed };
    const known = this.unmanaged.get(agentId);
    if (known) return { kind: 'unmanaged', agent: known, firstSeen: false };
    if (kind === 'shutdown') return { kind: 'ignored' };
    const agent: AgentRecord = {
      id: agentId,
      deployment: null,
      job: null,
      instanceId: null,
      index: null,
      cid: null,
      discoveredAt: now,
      updatedAt: now,
      jobState: null,
    };
    this.unmanaged.set(agentId, agent);
    return { kind: 'unmanaged', agent, firstSeen: true };
  }

  heartbeat(agent: AgentRecord, jobState: string | null, now: number): void {
    agent.updatedAt = now;
    if (jobState !== null) agent.jobState = jobState;
  }

  /** A shutdown message, or a timed-out unmanaged agent: forget the agent everywhere. */
  removeAgent(agentId: string): void {
    this.unmanaged.delete(agentId);
    for (const deployment of this.deployments.values()) deployment.agents.delete(agentId);
  }

  agentCount(): number {
    let count = this.unmanaged.size;
    for (const deployment of this.deployments.values()) count += deployment.agents.size;
    return count;
  }
}

/** `<deployment>: <job>(<instance id>) [id=<agent id>, index=<i>, cid=<cid>]`, as BOSH names agents. */
export function agentName(agent: AgentRecord): string {
  if (agent.deployment === null) return `agent ${agent.id}`;
  return `${agent.deployment}: ${agent.job ?? '?'}(${agent.instanceId ?? '?'}) [id=${agent.id}, index=${agent.index ?? '?'}, cid=${agent.cid ?? '?'}]`;
}

export function instanceName(instance: InstanceRecord): string {
  return `${instance.deployment}: ${instance.job}(${instance.id}) [agent_id=${instance.agentId ?? '-'}, index=${instance.index ?? '?'}, cid=${instance.cid ?? '-'}]`;
}
