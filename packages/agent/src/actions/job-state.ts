import { access } from 'node:fs/promises';
import type { AgentJobState } from '@refit/protocol';
import type { ProcessStatus } from '../jobs/process-supervisor.ts';
import type { ActionContext } from './action.ts';

/**
 * The job state as BOSH derives it from monit (reference §3.5): the stopped marker wins; then
 * any process starting; then any process not running; else running.
 */
export async function jobState(
  ctx: ActionContext,
  processes: readonly ProcessStatus[],
): Promise<AgentJobState> {
  try {
    await access(ctx.paths.stoppedMarker);
    return 'stopped';
  } catch {
    /* not stopped */
  }
  if (processes.some((p) => p.state === 'starting')) return 'starting';
  if (processes.some((p) => p.state !== 'running')) return 'failing';
  return 'running';
}
