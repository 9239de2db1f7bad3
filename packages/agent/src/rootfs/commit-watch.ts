import { jobState } from '../actions/job-state.ts';
import type { ActionContext } from '../actions/action.ts';
import { errorMessage } from '../errors.ts';
import { specJobs } from '../spec-store.ts';
import { commitBootedRoot, readBootState, rootfsPaths } from './boot-state.ts';

/**
 * After a boot from a staged root, commits it once the agent is connected and the jobs of its
 * spec run (or the spec has none). Until then the boot step may still fall back to the previous
 * root (attempts, commit deadline). Answers a stop function.
 */
export function watchForCommit(ctx: ActionContext, intervalMs = 500): () => void {
  const paths = rootfsPaths(ctx.paths.base);
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    void (async () => {
      const state = await readBootState(paths);
      if (state?.pending == null || state.booted?.kind !== 'pending') {
        clearInterval(timer);
        return;
      }
      // The health gate: an instance with jobs commits once they all run (after the director's
      // apply and start); one without jobs commits as soon as it is connected.
      const spec = await ctx.specs.get();
      if (specJobs(spec).length > 0 && (spec.configuration_hash ?? '') !== '') {
        const statuses = await ctx.supervisor.status();
        if (statuses.length === 0 || (await jobState(ctx, statuses)) !== 'running') return;
      }
      const outcome = await commitBootedRoot(paths);
      ctx.log.info(`root ${state.pending.version} (${state.pending.root_archive_sha256 ?? '?'}): ${outcome}`);
      clearInterval(timer);
    })()
      .catch((error: unknown) => {
        // An unreadable boot state will not get better: say so once and stop watching.
        ctx.log.warn(`commit check: ${errorMessage(error)}`);
        clearInterval(timer);
      })
      .finally(() => (busy = false));
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
