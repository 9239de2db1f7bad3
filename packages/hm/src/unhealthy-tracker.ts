/**
 * Which instances were reported unhealthy and when (BOSH's `AlertTracker`): a critical
 * `deployment_health` alert marks each listed instance; only marks within `timeThresholdMs`
 * count.
 */
export class UnhealthyTracker {
  readonly #marks = new Map<string, number>();

  static key(deployment: string, job: string, instanceId: string): string {
    return JSON.stringify([deployment, job, instanceId]);
  }

  record(
    deployment: string,
    jobsToInstanceIds: Readonly<Record<string, readonly string[]>>,
    at: number,
  ): void {
    for (const [job, ids] of Object.entries(jobsToInstanceIds)) {
      for (const id of ids) this.#marks.set(UnhealthyTracker.key(deployment, job, id), at);
    }
  }

  /** How many of `instances` (job, id) were marked at or after `now - timeThresholdMs`. */
  count(
    deployment: string,
    instances: Iterable<{ readonly job: string; readonly id: string }>,
    now: number,
    timeThresholdMs: number,
  ): number {
    let count = 0;
    for (const instance of instances) {
      const at = this.#marks.get(UnhealthyTracker.key(deployment, instance.job, instance.id));
      if (at !== undefined && at >= now - timeThresholdMs) count += 1;
    }
    return count;
  }

  /** Drops marks older than the window, so the map does not grow forever. */
  prune(now: number, timeThresholdMs: number): void {
    for (const [key, at] of this.#marks) if (at < now - timeThresholdMs) this.#marks.delete(key);
  }
}
