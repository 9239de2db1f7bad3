import type { BootedStemcell } from '@refit/protocol';
import { DirectorError } from '../../errors.ts';
import type { UpdaterDeps } from '../updater-ports.ts';

/** The agent came back, but on another root than the one staged (the boot step fell back). */
export class RebootedOnOtherVersion extends DirectorError {
  static readonly code = 450011;
  constructor(message: string) {
    super(450011, 500, message);
  }
}

/** Reply timeout of each poll: short, a message sent while the VM is down is lost. */
const REPLY_MS = 1000;

/**
 * After `reboot`: polls `get_state` every 0.25 s (1 s per reply) until the same agent reports `version` as
 * its booted stemcell. An agent that answers with another version after it was seen down (a
 * failed or slow call: the client retries timeouts), or at the deadline, booted a fallback root:
 * `RebootedOnOtherVersion`.
 */
export async function waitForBootedVersion(
  deps: UpdaterDeps,
  agentId: string,
  want: { readonly version: string; readonly timeoutMs: number },
): Promise<BootedStemcell> {
  const deadline = deps.clock.now() + want.timeoutMs;
  let wentDown = false;
  let last: BootedStemcell | null = null;
  let lastError = 'no answer';
  while (deps.clock.now() < deadline) {
    const asked = deps.clock.now();
    try {
      const state = await deps.agents.call(agentId, 'get_state', [], {
        signal: AbortSignal.any([deps.signal, AbortSignal.timeout(REPLY_MS * 3 + 1000)]),
        replyTimeoutMs: REPLY_MS,
      });
      // The client retries get_state on timeouts: an answer after two of them came after a
      // silence, i.e. from the agent of the next boot.
      if (deps.clock.now() - asked >= 2 * REPLY_MS) wentDown = true;
      last = state.stemcell ?? null;
      if (last?.version === want.version) return last;
      if (wentDown && last !== null) {
        throw new RebootedOnOtherVersion(
          `agent ${agentId} came back on stemcell ${last.version}, not ${want.version}: the VM fell back to its previous root`,
        );
      }
    } catch (error) {
      if (error instanceof RebootedOnOtherVersion) throw error;
      deps.signal.throwIfAborted();
      wentDown = true;
      lastError = (error as Error).message;
    }
    await deps.clock.sleep(250, deps.signal);
  }
  throw new RebootedOnOtherVersion(
    last !== null
      ? `agent ${agentId} reports stemcell ${last.version}, not ${want.version}, ${Math.round(want.timeoutMs / 1000)} s after reboot`
      : `agent ${agentId} did not come back within ${Math.round(want.timeoutMs / 1000)} s after reboot (${lastError})`,
  );
}
