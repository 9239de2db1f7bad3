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

/**
 * Reply timeout of each poll: short, a message sent while the VM is down is lost, and the next
 * poll (the client's retry) reaches the rebooted agent as soon as it listens.
 */
export const BOOT_POLL_REPLY_MS = 400;
/** Between two polls (the old agent still answering, or a poll that failed fast). */
const BOOT_POLL_GAP_MS = 100;

export interface BootWait {
  readonly version: string;
  readonly timeoutMs: number;
  /** What the agent reported before `reboot` (its boot id tells the rebooted agent apart). */
  readonly before?: BootedStemcell | null;
}

/**
 * After `reboot`: asks `get_state` (each reply awaited `BOOT_POLL_REPLY_MS`, retried by the
 * client) until the agent of the next boot reports `version` as its booted stemcell. The next
 * boot is known by its `boot_id` differing from the one before the reboot; an agent without boot
 * ids is taken as rebooted once it was seen down (a timed-out or failed poll) or, for a new
 * version, when it reports that version. A rebooted agent on another version booted a fallback
 * root: `RebootedOnOtherVersion`, as at the deadline.
 */
export async function waitForBootedVersion(
  deps: UpdaterDeps,
  agentId: string,
  want: BootWait,
): Promise<BootedStemcell> {
  const deadline = deps.clock.now() + want.timeoutMs;
  const beforeId = want.before?.boot_id;
  const sameVersion = want.before?.version === want.version;
  let wentDown = false;
  let last: BootedStemcell | null = null;
  let lastError = 'no answer';
  const rebooted = (s: BootedStemcell): boolean => {
    if (beforeId !== undefined || s.boot_id !== undefined) return s.boot_id !== beforeId;
    return wentDown || (!sameVersion && s.version === want.version);
  };
  while (deps.clock.now() < deadline) {
    const asked = deps.clock.now();
    try {
      const state = await deps.agents.call(agentId, 'get_state', [], {
        signal: AbortSignal.any([deps.signal, AbortSignal.timeout(BOOT_POLL_REPLY_MS * 3 + 1000)]),
        replyTimeoutMs: BOOT_POLL_REPLY_MS,
      });
      // The client retries get_state on timeouts: an answer after two of them came after a
      // silence, i.e. from the agent of the next boot.
      if (deps.clock.now() - asked >= 2 * BOOT_POLL_REPLY_MS) wentDown = true;
      last = state.stemcell ?? null;
      if (last !== null && rebooted(last)) {
        if (last.version === want.version) return last;
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
    await deps.clock.sleep(BOOT_POLL_GAP_MS, deps.signal);
  }
  throw new RebootedOnOtherVersion(
    last !== null
      ? `agent ${agentId} reports stemcell ${last.version}, not a new boot on ${want.version}, ${Math.round(want.timeoutMs / 1000)} s after reboot`
      : `agent ${agentId} did not come back within ${Math.round(want.timeoutMs / 1000)} s after reboot (${lastError})`,
  );
}
