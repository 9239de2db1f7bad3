import { HmAlertCategory, HmSeverity } from '@refit/protocol';
import { agentName, instanceName, type AgentRecord, type Fleet } from './fleet.ts';

/** An alert before it gets an id (see `alert.ts`). Times in unix seconds, as BOSH sends them. */
export interface AlertDraft {
  readonly severity: number;
  readonly category: string | null;
  readonly title: string;
  readonly summary?: string;
  readonly source: string | null;
  readonly deployment: string | null;
  readonly createdAt: number;
  readonly job?: string | null;
  readonly instanceId?: string | null;
  readonly agentId?: string | null;
  readonly jobsToInstanceIds?: Readonly<Record<string, readonly string[]>>;
}

export interface AnalysisThresholds {
  /** No heartbeat for longer than this: timed out (BOSH `agent_timeout`, 60 s). */
  readonly agentTimeoutMs: number;
  /** In no deployment for longer than this: rogue (BOSH `rogue_agent_alert`, 120 s). */
  readonly rogueAgentAlertMs: number;
}

export interface Analysis {
  readonly alerts: AlertDraft[];
  /** Unmanaged agents that timed out: forgotten, as BOSH does (never alerted on). */
  readonly removedAgentIds: string[];
  readonly agentsAnalyzed: number;
  readonly instancesAnalyzed: number;
  readonly lockedDeploymentsSkipped: string[];
}

const timedOut = (agent: AgentRecord, now: number, t: AnalysisThresholds) =>
  now - agent.updatedAt > t.agentTimeoutMs;
const rogue = (agent: AgentRecord, now: number, t: AnalysisThresholds) =>
  agent.deployment === null && now - agent.discoveredAt > t.rogueAgentAlertMs;

function group(into: Map<string, string[]>, job: string, id: string): void {
  const ids = into.get(job);
  if (ids) ids.push(id);
  else into.set(job, [id]);
}

/**
 * One analysis pass (BOSH `analyze_agents` + `analyze_instances`), pure: what alerts the fleet
 * raises at `now`. Locked deployments are skipped; each deployment with timed-out agents, and
 * each with instances lacking their VM, gets one aggregated `deployment_health` alert.
 */
export function analyzeFleet(fleet: Fleet, now: number, thresholds: AnalysisThresholds): Analysis {
  const alerts: AlertDraft[] = [];
  const removedAgentIds: string[] = [];
  const lockedDeploymentsSkipped: string[] = [];
  const createdAt = Math.floor(now / 1000);
  let agentsAnalyzed = 0;
  let instancesAnalyzed = 0;

  const aggregate = (deployment: string, jobs: Map<string, string[]>, title: string) => {
    if (jobs.size === 0) return;
    alerts.push({
      severity: HmSeverity.critical,
      category: HmAlertCategory.deploymentHealth,
      title,
      source: deployment,
      deployment,
      createdAt,
      jobsToInstanceIds: Object.fromEntries(jobs),
    });
  };

  for (const deployment of fleet.deployments.values()) {
    if (deployment.locked) {
      lockedDeploymentsSkipped.push(deployment.name);
      continue;
    }
    const timedOutJobs = new Map<string, string[]>();
    for (const agent of deployment.agents.values()) {
      agentsAnalyzed += 1;
      if (!timedOut(agent, now, thresholds)) continue;
      alerts.push({
        severity: HmSeverity.critical,
        category: HmAlertCategory.vmHealth,
        title: `${agent.id} has timed out`,
        source: agentName(agent),
        deployment: agent.deployment,
        createdAt,
        job: agent.job,
        instanceId: agent.instanceId,
        agentId: agent.id,
      });
      if (agent.job !== null && agent.instanceId !== null) group(timedOutJobs, agent.job, agent.instanceId);
    }
    aggregate(deployment.name, timedOutJobs, `${deployment.name} has instances with timed out agents`);

    const missingVmJobs = new Map<string, string[]>();
    for (const instance of deployment.instances.values()) {
      instancesAnalyzed += 1;
      if (!instance.expectsVm || instance.agentId !== null) continue;
      alerts.push({
        severity: HmSeverity.critical,
        category: HmAlertCategory.vmHealth,
        title: `${instance.id} has no VM`,
        source: instanceName(instance),
        deployment: instance.deployment,
        createdAt,
        job: instance.job,
        instanceId: instance.id,
      });
      group(missingVmJobs, instance.job, instance.id);
    }
    aggregate(deployment.name, missingVmJobs, `${deployment.name} has instances which do not have VMs`);
  }

  for (const agent of fleet.unmanaged.values()) {
    agentsAnalyzed += 1;
    if (timedOut(agent, now, thresholds)) {
      removedAgentIds.push(agent.id);
      continue;
    }
    if (rogue(agent, now, thresholds)) {
      alerts.push({
        severity: HmSeverity.critical,
        category: null,
        title: `${agent.id} is not a part of any deployment`,
        source: agentName(agent),
        deployment: null,
        createdAt,
        agentId: agent.id,
      });
    }
  }
  return { alerts, removedAgentIds, agentsAnalyzed, instancesAnalyzed, lockedDeploymentsSkipped };
}
