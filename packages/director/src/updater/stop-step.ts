import type { ApplySpec } from '@refit/protocol';
import type { StageProgress } from '../tasks/task-context.ts';
import type { UpdaterDeps } from './updater-ports.ts';

export interface StopOptions {
  /** `BOSH_VM_NEXT_STATE`: keep (in place), delete (recreate, delete). */
  readonly vmNextState: 'keep' | 'delete';
  readonly instanceNextState: 'keep' | 'delete' | 'stopped' | 'detached';
  /** `update` when the VM stays and its disks do not change, else `shutdown`. */
  readonly drainType: 'update' | 'shutdown';
  readonly skipDrain: boolean;
  /** The spec the jobs are moving to (drain `update` sees it). */
  readonly nextSpec: ApplySpec;
}

/**
 * Reference §4.4 B.2: `pre-stop` → `drain` (wait the seconds it answers; a negative answer is a
 * dynamic drain: wait that long, ask `drain status` again) → `stop` → `post-stop`.
 * `skip_drain` skips pre-stop and drain.
 */
export async function stopStep(
  deps: UpdaterDeps,
  agentId: string,
  options: StopOptions,
  progress: StageProgress,
): Promise<void> {
  const call = { signal: deps.signal };
  if (!options.skipDrain) {
    progress.status('executing pre-stop');
    await deps.agents.call(
      agentId,
      'run_script',
      [
        'pre-stop',
        {
          env: {
            BOSH_VM_NEXT_STATE: options.vmNextState,
            BOSH_INSTANCE_NEXT_STATE: options.instanceNextState,
            BOSH_DEPLOYMENT_NEXT_STATE: 'keep',
          },
        },
      ],
      call,
    );
    progress.status('executing drain');
    let seconds =
      options.drainType === 'update'
        ? await deps.agents.call(agentId, 'drain', ['update', options.nextSpec], call)
        : await deps.agents.call(agentId, 'drain', ['shutdown', options.nextSpec], call);
    while (seconds < 0) {
      await deps.clock.sleep(-seconds * 1000, deps.signal);
      seconds = await deps.agents.call(agentId, 'drain', ['status'], call);
    }
    if (seconds > 0) await deps.clock.sleep(seconds * 1000, deps.signal);
  }
  progress.status('stopping jobs');
  await deps.agents.call(agentId, 'stop', [], call);
  progress.status('executing post-stop');
  await deps.agents.call(agentId, 'run_script', ['post-stop', { env: {} }], call);
}
