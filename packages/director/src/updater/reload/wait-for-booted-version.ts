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
/** Between two probes (each awaits its own answer). */
const BOOT_POLL_GAP_MS = 100;
/** Probes out at once at most (a probe lives up to 3 reply timeouts). */
const BOOT_POLL_MAX_IN_FLIGHT = 16;

export interface BootWait {
  readonly version: string;
  readonly timeoutMs: number;
  /** What the agent reported before `reboot` (its boot id tells the rebooted agent apart). */
  readonly before?: BootedStemcell | null;
}

/**
 * After `reboot`: asks `get_state` every `BOOT_POLL_GAP_MS` (each probe awaits its reply
 * `BOOT_POLL_REPLY_MS`, retried by the client; probes overlap) until the agent of the next boot reports `version` as its booted stemcell. The next
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
  // A probe every BOOT_POLL_GAP_MS without waiting for the previous one: a request sent while
  // the VM is down is lost, so the agent of the next boot answers the first probe sent after it
  // subscribed, at most a gap later (not a reply timeout later).
  let outcome: { readonly ok: BootedStemcell } | { readonly error: Error } | null = null;
  const stop = new AbortController();
  const probe = async (): Promise<void> => {
    const asked = deps.clock.now();
    try {
      const state = await deps.agents.call(agentId, 'get_state', [], {
        signal: AbortSignal.any([
          deps.signal,
          stop.signal,
          AbortSignal.timeout(BOOT_POLL_REPLY_MS * 3 + 1000),
        ]),
        replyTimeoutMs: BOOT_POLL_REPLY_MS,
      });
      if (outcome !== null) return;
      // The client retries get_state on timeouts: an answer after two of them came after a
      // silence, i.e. from the agent of the next boot.
      if (deps.clock.now() - asked >= 2 * BOOT_POLL_REPLY_MS) wentDown = true;
      last = state.stemcell ?? null;
      if (last !== null && rebooted(last)) {
        outcome =
          last.version === want.version
            ? { ok: last }
            : {
                error: new RebootedOnOtherVersion(
                  `agent ${agentId} came back on stemcell ${last.version}, not ${want.version}: the VM fell back to its previous root`,
                ),
              };
      }
    } catch (error) {
      if (outcome !== null || stop.signal.aborted || deps.signal.aborted) return;
      wentDown = true;
      lastError = (error as Error).message;
    }
  };
  const inFlight = new Set<Promise<void>>();
  try {
    while (outcome === null && deps.clock.now() < deadline) {
      if (inFlight.size < BOOT_POLL_MAX_IN_FLIGHT) {
        const p: Promise<void> = probe().finally(() => inFlight.delete(p));
        inFlight.add(p);
      }
      await deps.clock.sleep(BOOT_POLL_GAP_MS, deps.signal);
    }
    // At the deadline, the probes still out get their answer (or time out) first.
    if (outcome === null) await Promise.all(inFlight);
  } finally {
    stop.abort();
  }
  deps.signal.throwIfAborted();
  const result = outcome as { readonly ok: BootedStemcell } | { readonly error: Error } | null;
  if (result !== null) {
    if ('ok' in result) return result.ok;
    throw result.error;
  }
  const seen = last as BootedStemcell | null;
  throw new RebootedOnOtherVersion(
    seen !== null
      ? `agent ${agentId} reports stemcell ${seen.version}, not a new boot on ${want.version}, ${Math.round(want.timeoutMs / 1000)} s after reboot`
      : `agent ${agentId} did not come back within ${Math.round(want.timeoutMs / 1000)} s after reboot (${lastError})`,
  );
}
