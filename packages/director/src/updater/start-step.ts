import type { AgentProcess } from '@refit/protocol';
import { DirectorError } from '../errors.ts';
import type { WatchTimes } from '../manifests/update-config.ts';
import type { InstancePlan } from '../planner/plan-types.ts';
import type { StageProgress } from '../tasks/task-context.ts';
import { instanceLabel } from './instance-label.ts';
import type { UpdaterDeps } from './updater-ports.ts';

/** BOSH's AgentJobNotRunning (400007). */
export class AgentJobNotRunning extends DirectorError {
  static readonly code = 400007;
  constructor(message: string) {
    super(400007, 500, message);
  }
}

/**
 * The waits of BOSH's watch schedule: `min`, then steps of clamp((max-min)/9, 1 s, 15 s) until
 * `max` is reached (a single value, min = max, gives exactly one check).
 */
export function watchSchedule(watch: WatchTimes): number[] {
  const waits = [watch.minMs];
  const step = Math.min(15_000, Math.max(1000, Math.floor((watch.maxMs - watch.minMs) / 9)));
  let total = watch.minMs;
  while (total < watch.maxMs) {
    const next = Math.min(step, watch.maxMs - total);
    waits.push(next);
    total += next;
  }
  return waits;
}

/**
 * Reference §4.4 B.5: `pre-start` → `start` → wait until `get_state` says running (canaries
 * with `canary_watch_time`, others `update_watch_time`) → `post-start`.
 */
export async function startStep(
  deps: UpdaterDeps,
  agentId: string,
  plan: InstancePlan,
  watch: WatchTimes,
  progress: StageProgress,
): Promise<void> {
  const call = { signal: deps.signal };
  progress.status('executing pre-start');
  await deps.agents.call(agentId, 'run_script', ['pre-start', { env: {} }], call);
  progress.status('starting jobs');
  await deps.agents.call(agentId, 'start', [], call);
  let notRunning: readonly AgentProcess[] = [];
  let running = false;
  for (const wait of watchSchedule(watch)) {
    await deps.clock.sleep(wait, deps.signal);
    const state = await deps.agents.call(agentId, 'get_state', [], call);
    if (state.job_state === 'running') {
      running = true;
      break;
    }
    notRunning = state.processes.filter((p) => p.state !== 'running');
  }
  if (!running) {
    throw new AgentJobNotRunning(
      `'${instanceLabel(plan)}' is not running after update. Review logs for failed jobs: ${notRunning.map((p) => p.name).join(', ')}`,
    );
  }
  progress.status('executing post-start');
  await deps.agents.call(agentId, 'run_script', ['post-start', { env: {} }], call);
}
