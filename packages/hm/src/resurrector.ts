import { HmAlertCategory, HmSeverity, type HmAlert, type ResurrectionRule } from '@refit/protocol';
import type { AlertSink } from './alert.ts';
import type { AlertDraft } from './analyze-fleet.ts';
import type { DirectorApi } from './director-client.ts';
import type { Fleet } from './fleet.ts';
import { errorText, type HmLog } from './hm-log.ts';
import { deploymentHealth } from './meltdown.ts';
import { isEmptyJobs, planResurrection, prettyInstances } from './resurrection-plan.ts';
import { UnhealthyTracker } from './unhealthy-tracker.ts';

export interface ResurrectorSettings {
  readonly minimumDownJobs: number;
  readonly percentThreshold: number;
  readonly timeThresholdMs: number;
  readonly autoFixStatefulNodes: boolean;
  /** Rules from the monitor's own config, applied with the director's resurrection config. */
  readonly localRules: readonly ResurrectionRule[];
}

export interface ResurrectorOptions {
  readonly director: DirectorApi;
  readonly fleet: Fleet;
  readonly log: HmLog;
  /** Raises an alert of the resurrector's own (log, webhook, events). */
  readonly emit: (draft: AlertDraft) => void;
  readonly settings: ResurrectorSettings;
  readonly signal: AbortSignal;
  readonly now?: () => number;
}

const SOURCE = 'HM plugin resurrector';

/**
 * BOSH's resurrector plugin: on each `deployment_health` alert, marks the listed instances
 * unhealthy, then either alerts a meltdown, or asks the director to `scan_and_fix` the
 * instances resurrection applies to, one request at a time per deployment.
 */
export class Resurrector implements AlertSink {
  readonly #options: ResurrectorOptions;
  readonly #tracker = new UnhealthyTracker();
  readonly #inFlight = new Map<string, Promise<void>>();
  #directorRules: readonly ResurrectionRule[] = [];
  requested = 0;

  constructor(options: ResurrectorOptions) {
    this.#options = options;
  }

  /** Rules of the director's latest `resurrection` config. */
  setDirectorRules(rules: readonly ResurrectionRule[]): void {
    this.#directorRules = rules;
  }

  deliver(alert: HmAlert): void {
    if (alert.category !== HmAlertCategory.deploymentHealth) return;
    const deployment = alert.deployment;
    const jobs = alert.jobs_to_instance_ids;
    if (deployment === null || jobs === undefined) {
      this.#options.log.warn('(Resurrector) event did not have deployment and jobs_to_instance_ids', {
        alert_id: alert.id,
      });
      return;
    }
    const now = (this.#options.now ?? Date.now)();
    if (alert.severity === HmSeverity.critical) this.#tracker.record(deployment, jobs, now);
    this.#tracker.prune(now, this.#options.settings.timeThresholdMs);
    if (this.#inFlight.has(deployment)) {
      this.#options.log.info('(Resurrector) still handling an earlier alert for this deployment', {
        deployment,
      });
      return;
    }
    const work = this.#handle(deployment, jobs, now)
      .catch((error: unknown) =>
        this.#options.log.error('(Resurrector) failed', { deployment, error: errorText(error) }),
      )
      .finally(() => this.#inFlight.delete(deployment));
    this.#inFlight.set(deployment, work);
  }

  /** Resolves when every request in flight has ended. */
  async idle(): Promise<void> {
    await Promise.all(this.#inFlight.values());
  }

  async #handle(
    deployment: string,
    jobs: Readonly<Record<string, readonly string[]>>,
    now: number,
  ): Promise<void> {
    const { fleet, settings, director, log, signal } = this.#options;
    const record = fleet.deployments.get(deployment);
    const instances = record ? [...record.instances.values()].filter((i) => i.expectsVm) : [];
    const unhealthy = this.#tracker.count(deployment, instances, now, settings.timeThresholdMs);
    const health = deploymentHealth(deployment, unhealthy, instances.length, settings);
    const plan = planResurrection({
      deployment,
      jobsToInstanceIds: jobs,
      health,
      rules: [...this.#directorRules, ...settings.localRules],
      statefulInstanceIds: new Set(instances.filter((i) => i.stateful).map((i) => i.id)),
      autoFixStatefulNodes: settings.autoFixStatefulNodes,
    });
    const alert = (severity: number, title: string, summary: string) =>
      this.#options.emit({
        severity,
        category: null,
        title,
        summary,
        source: SOURCE,
        deployment,
        createdAt: Math.floor(now / 1000),
      });

    if (plan.kind === 'normal') {
      log.info('(Resurrector) state is normal', { deployment });
      return;
    }
    if (plan.kind === 'meltdown') {
      alert(
        HmSeverity.alert,
        'We are in meltdown',
        `Skipping resurrection for instances: ${prettyInstances(plan.skipped)}; ${health.summary}`,
      );
      return;
    }
    if (!isEmptyJobs(plan.disabledByConfig)) {
      alert(
        HmSeverity.alert,
        'Resurrection is disabled by resurrection config',
        `Skipping resurrection for instances: ${prettyInstances(plan.disabledByConfig)}; ${health.summary} because of resurrection config`,
      );
    }
    if (!isEmptyJobs(plan.skippedStateful)) {
      alert(
        HmSeverity.warning,
        'Skipping stateful instances',
        `Skipping resurrection for instances with persistent disks: ${prettyInstances(plan.skippedStateful)}; ${health.summary}`,
      );
    }
    if (isEmptyJobs(plan.fix)) return;

    let tasks;
    try {
      tasks = await director.activeTasks(deployment, signal);
    } catch (error) {
      // As BOSH: when the task list cannot be read, do not queue another scan now.
      log.warn('(Resurrector) cannot read the director tasks: not scanning this time', {
        deployment,
        error: errorText(error),
      });
      return;
    }
    if (tasks.some((task) => task.description === 'scan and fix')) {
      log.info('(Resurrector) CCK is already queued', { deployment });
      return;
    }
    let paused: boolean | null;
    try {
      paused = await director.resurrectionPaused(signal);
    } catch (error) {
      log.warn('(Resurrector) cannot read whether resurrection is paused: not scanning this time', {
        deployment,
        error: errorText(error),
      });
      return;
    }
    if (paused === true) {
      log.info('(Resurrector) resurrection is paused on the director: not asking scan_and_fix', {
        deployment,
        jobs: plan.fix,
      });
      return;
    }
    alert(
      HmSeverity.warning,
      'Scan unresponsive VMs',
      `Notifying Director to scan instances: ${prettyInstances(plan.fix)}; ${health.summary}`,
    );
    this.requested += 1;
    const answer = await director.scanAndFix(deployment, { jobs: plan.fix }, signal);
    if (answer.kind === 'queued') {
      log.info('(Resurrector) scan_and_fix queued', { deployment, task_id: answer.taskId, jobs: plan.fix });
    } else {
      log.warn('(Resurrector) the director refused scan_and_fix', {
        deployment,
        status: answer.status,
        body: answer.body,
      });
    }
  }
}
