/** BOSH's resurrector thresholds (`resurrector_helper.rb`). */
export interface MeltdownThresholds {
  /** Below this many unhealthy instances there is no meltdown (default 5). */
  readonly minimumDownJobs: number;
  /** Fraction of the deployment that must be unhealthy for a meltdown (default 0.2). */
  readonly percentThreshold: number;
}

export const DeploymentHealthState = { normal: 'normal', managed: 'managed', meltdown: 'meltdown' } as const;
export type DeploymentHealthState = (typeof DeploymentHealthState)[keyof typeof DeploymentHealthState];

export interface DeploymentHealth {
  readonly state: DeploymentHealthState;
  readonly unhealthy: number;
  readonly total: number;
  /** `deployment: 'd'; 3 of 5 agents are unhealthy (60.0%)`, as BOSH words it. */
  readonly summary: string;
}

/**
 * normal: nothing unhealthy; meltdown: unhealthy ≥ minimumDownJobs AND unhealthy/total ≥
 * percentThreshold (do nothing but alert); managed otherwise (resurrect).
 */
export function deploymentHealth(
  deployment: string,
  unhealthy: number,
  total: number,
  thresholds: MeltdownThresholds,
): DeploymentHealth {
  // A deployment whose instance list is stale can report more unhealthy than it has.
  const fraction = total > 0 ? unhealthy / total : unhealthy > 0 ? 1 : 0;
  let state: DeploymentHealthState = DeploymentHealthState.normal;
  if (unhealthy > 0) {
    state =
      unhealthy >= thresholds.minimumDownJobs && fraction >= thresholds.percentThreshold
        ? DeploymentHealthState.meltdown
        : DeploymentHealthState.managed;
  }
  const percent = (Math.round(fraction * 1000) / 10).toFixed(1);
  return {
    state,
    unhealthy,
    total,
    summary: `deployment: '${deployment}'; ${unhealthy} of ${total} agents are unhealthy (${percent}%)`,
  };
}
