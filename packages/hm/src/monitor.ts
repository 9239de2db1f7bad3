import { setTimeout as sleep } from 'node:timers/promises';
import { parse as parseYaml } from 'yaml';
import {
  AgentAlert,
  Heartbeat,
  ResurrectionConfigContent,
  type HmAlert,
  type ResurrectionRule,
} from '@refit/protocol';
import { toAlert, type AlertSink } from './alert.ts';
import { analyzeFleet, type AlertDraft } from './analyze-fleet.ts';
import type { DirectorApi } from './director-client.ts';
import { agentName, Fleet, type EventKind } from './fleet.ts';
import { errorText, type HmLog } from './hm-log.ts';
import type { Resurrector } from './resurrector.ts';

const MAX_NOISY_LINES = 20;

export interface MonitorIntervals {
  readonly pollDirectorMs: number;
  readonly analyzeMs: number;
  /** No analysis before this much time after start (BOSH `poll_grace_period`, 30 s). */
  readonly gracePeriodMs: number;
  readonly agentTimeoutMs: number;
  readonly rogueAgentAlertMs: number;
  /** Longest wait between retries of a director that is down. */
  readonly maxBackoffMs: number;
}

export interface MonitorOptions {
  readonly director: DirectorApi;
  readonly log: HmLog;
  /** Where every alert goes (log, webhook, director events, resurrector). */
  readonly sinks: readonly AlertSink[];
  readonly resurrector: Resurrector | null;
  readonly intervals: MonitorIntervals;
  /** Shared with the resurrector; a new one when absent. */
  readonly fleet?: Fleet;
  readonly now?: () => number;
}

export interface MonitorCounters {
  heartbeats: number;
  agentAlerts: number;
  shutdowns: number;
  invalidMessages: number;
  unknownAgentMessages: number;
  analyses: number;
  alertsRaised: number;
  directorPolls: number;
  directorFailures: number;
}

/**
 * The health monitor: agent messages update the fleet, a poll loop keeps it in step with the
 * director, an analysis loop raises alerts. Nothing here waits on a sink.
 */
export class Monitor {
  readonly fleet: Fleet;
  readonly counters: MonitorCounters = {
    heartbeats: 0,
    agentAlerts: 0,
    shutdowns: 0,
    invalidMessages: 0,
    unknownAgentMessages: 0,
    analyses: 0,
    alertsRaised: 0,
    directorPolls: 0,
    directorFailures: 0,
  };
  readonly #options: MonitorOptions;
  readonly #now: () => number;
  readonly #decoder = new TextDecoder();
  /** Log lines about bad or unknown-agent messages since the last analysis, and those held back. */
  #noisyLogged = 0;
  #noisySuppressed = 0;
  /** Set after the first successful poll. */
  lastPollAt: number | null = null;

  constructor(options: MonitorOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.fleet = options.fleet ?? new Fleet();
  }

  /**
   * Logs a line about a bad message or an unknown agent, at most `MAX_NOISY_LINES` per analysis
   * interval: a flood of them (a fleet heard before the first director poll, a broken publisher)
   * must not turn into a flood of log writes. The rest are counted and summed up at analysis.
   */
  #noisy(level: 'warn' | 'error', msg: string, fields: Record<string, unknown>): void {
    if (this.#noisyLogged < MAX_NOISY_LINES) {
      this.#noisyLogged += 1;
      this.#options.log[level](msg, fields);
    } else {
      this.#noisySuppressed += 1;
    }
  }

  /** One message on `hm.agent.<kind>.<agentId>`; never throws. */
  handleMessage(kind: EventKind, agentId: string, data: Uint8Array): void {
    const { log } = this.#options;
    const now = this.#now();
    const who = this.fleet.attribute(kind, agentId, now);
    if (who.kind === 'ignored') return;
    if (who.kind === 'unmanaged') {
      this.counters.unknownAgentMessages += 1;
      if (who.firstSeen)
        this.#noisy('warn', `Received ${kind} from unmanaged agent: ${agentId}`, { agent_id: agentId });
    }
    if (kind === 'shutdown') {
      this.counters.shutdowns += 1;
      log.info(`Agent '${agentId}' shutting down...`, { agent_id: agentId });
      this.fleet.removeAgent(agentId);
      return;
    }
    let message: unknown;
    try {
      message = JSON.parse(this.#decoder.decode(data));
    } catch (error) {
      this.counters.invalidMessages += 1;
      this.#noisy('error', 'Cannot parse incoming event', {
        kind,
        agent_id: agentId,
        error: errorText(error),
      });
      return;
    }
    if (kind === 'heartbeat') {
      // As BOSH: any JSON from the agent's subject proves it is alive.
      const parsed = Heartbeat.safeParse(message);
      if (!parsed.success) {
        this.counters.invalidMessages += 1;
        this.#noisy('warn', 'Invalid heartbeat', { agent_id: agentId, error: parsed.error.message });
      }
      this.fleet.heartbeat(who.agent, parsed.success ? parsed.data.job_state : null, now);
      this.counters.heartbeats += 1;
      return;
    }
    const parsed = AgentAlert.safeParse(message);
    if (!parsed.success) {
      this.counters.invalidMessages += 1;
      this.#noisy('error', 'Invalid event', { kind, agent_id: agentId, error: parsed.error.message });
      return;
    }
    this.counters.agentAlerts += 1;
    const agent = who.agent;
    this.#deliver({
      kind: 'alert',
      id: parsed.data.id,
      severity: parsed.data.severity,
      category: null,
      title: parsed.data.title,
      summary: parsed.data.summary,
      source: agentName(agent),
      deployment: agent.deployment,
      created_at: parsed.data.created_at,
      job: agent.job,
      instance_id: agent.instanceId,
      agent_id: agent.id,
    });
  }

  /** Raises an alert of the monitor's own. */
  raise(draft: AlertDraft): void {
    this.#deliver(toAlert(draft));
  }

  #deliver(alert: HmAlert): void {
    this.counters.alertsRaised += 1;
    for (const sink of this.#options.sinks) {
      try {
        sink.deliver(alert);
      } catch (error) {
        this.#options.log.error('alert sink failed', { alert_id: alert.id, error: errorText(error) });
      }
    }
  }

  /** One analysis pass: alerts for timed-out agents, instances without VMs, rogue agents. */
  analyze(): void {
    const { intervals, log } = this.#options;
    const started = this.#now();
    const analysis = analyzeFleet(this.fleet, started, intervals);
    for (const id of analysis.removedAgentIds) this.fleet.removeAgent(id);
    for (const name of analysis.lockedDeploymentsSkipped)
      log.info('Skipping analysis of locked deployment', { deployment: name });
    for (const draft of analysis.alerts) this.raise(draft);
    this.counters.analyses += 1;
    if (this.#noisySuppressed > 0) {
      log.warn('more bad or unknown-agent messages were not logged', { count: this.#noisySuppressed });
    }
    this.#noisyLogged = 0;
    this.#noisySuppressed = 0;
    log.info('Analyzed', {
      agents: analysis.agentsAnalyzed,
      instances: analysis.instancesAnalyzed,
      alerts: analysis.alerts.length,
      took_ms: this.#now() - started,
      counters: this.counters,
    });
  }

  /** Fetches deployments and their instances; throws when the director cannot be read. */
  async poll(signal: AbortSignal): Promise<void> {
    const { director, log, resurrector } = this.#options;
    const deployments = await director.listDeployments(signal);
    this.fleet.syncDeployments(deployments);
    for (const deployment of deployments) {
      const instances = await director.listInstances(deployment.name, signal);
      this.fleet.syncInstances(deployment.name, instances, this.#now());
    }
    this.lastPollAt = this.#now();
    this.counters.directorPolls += 1;
    log.debug('director polled', { deployments: deployments.length, agents: this.fleet.agentCount() });
    if (resurrector !== null) {
      try {
        resurrector.setDirectorRules(await this.#resurrectionRules(signal));
      } catch (error) {
        log.warn('cannot read the resurrection config: keeping the previous rules', {
          error: errorText(error),
        });
      }
    }
  }

  async #resurrectionRules(signal: AbortSignal): Promise<ResurrectionRule[]> {
    const configs = await this.#options.director.resurrectionConfigs(signal);
    const rules: ResurrectionRule[] = [];
    for (const config of configs ?? []) {
      rules.push(...ResurrectionConfigContent.parse(parseYaml(config.content) ?? {}).rules);
    }
    return rules;
  }

  /** Runs the poll and analysis loops until `signal` aborts. */
  async run(signal: AbortSignal): Promise<void> {
    await Promise.all([this.#pollLoop(signal), this.#analysisLoop(signal)]);
  }

  async #pollLoop(signal: AbortSignal): Promise<void> {
    const { intervals, log } = this.#options;
    let backoffMs = Math.min(1000, intervals.maxBackoffMs);
    while (!signal.aborted) {
      let waitMs = intervals.pollDirectorMs;
      try {
        await this.poll(signal);
        backoffMs = Math.min(1000, intervals.maxBackoffMs);
      } catch (error) {
        if (signal.aborted) return;
        this.counters.directorFailures += 1;
        log.warn('cannot reach the director: retrying', { error: errorText(error), retry_in_ms: backoffMs });
        waitMs = Math.min(backoffMs, intervals.pollDirectorMs);
        backoffMs = Math.min(backoffMs * 2, intervals.maxBackoffMs);
      }
      await sleep(waitMs, undefined, { signal }).catch(() => {});
    }
  }

  async #analysisLoop(signal: AbortSignal): Promise<void> {
    const { intervals, log } = this.#options;
    await sleep(intervals.gracePeriodMs, undefined, { signal }).catch(() => {});
    while (!signal.aborted) {
      try {
        this.analyze();
      } catch (error) {
        log.error('analysis failed', { error: errorText(error) });
      }
      await sleep(intervals.analyzeMs, undefined, { signal }).catch(() => {});
    }
  }
}
