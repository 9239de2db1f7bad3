import { UpdateRootfsProgress } from '@refit/protocol';
import type { StageProgress } from '../../tasks/task-context.ts';

const mb = (bytes: number) => `${Math.round(bytes / 1e6)} MB`;

/** The least time between two progress lines of one instance's staging (a phase change always shows). */
export const STAGING_PROGRESS_EVERY_MS = 2000;

/**
 * Turns the `progress` of `update_rootfs`'s running `get_task` answers into `in_progress` event
 * lines for the instance ("staging rootfs 1.2: downloading 12 MB of 54 MB (22%)", with the
 * percentage as the line's `progress`): at most one every `everyMs`, plus one per phase change,
 * whatever the poll rate. Answers the callback for `AgentCallOptions.onProgress`.
 */
export function stagingProgress(
  version: string,
  progress: StageProgress,
  now: () => number,
  everyMs = STAGING_PROGRESS_EVERY_MS,
): (raw: unknown) => void {
  let lastAt = Number.NEGATIVE_INFINITY;
  let lastPhase: string | null = null;
  return (raw) => {
    const parsed = UpdateRootfsProgress.safeParse(raw);
    if (!parsed.success) return;
    const p = parsed.data;
    const at = now();
    if (p.phase === lastPhase && at - lastAt < everyMs) return;
    lastAt = at;
    lastPhase = p.phase;
    const total = p.bytes_total;
    const share = total !== null && total > 0 ? Math.min(1, p.bytes_done / total) : null;
    const amount =
      share !== null && total !== null
        ? ` ${mb(p.bytes_done)} of ${mb(total)} (${Math.floor(share * 100)}%)`
        : p.bytes_done > 0
          ? ` ${mb(p.bytes_done)}`
          : '';
    progress.status(`staging rootfs ${version}: ${p.phase}${amount}`, instancePercent(p.phase, share));
  };
}

/**
 * The instance line's `progress` while it stages (never going back): the download is the first
 * half of the instance's update, unpacking the next tenth, install and the reboot sequence the
 * rest (the line ends at 100 when the instance is done).
 */
function instancePercent(phase: UpdateRootfsProgress['phase'], share: number | null): number | undefined {
  switch (phase) {
    case 'downloading':
      return share === null ? undefined : share * 50;
    case 'verifying':
      return 50;
    case 'unpacking':
      return 50 + (share ?? 0) * 10;
    case 'installing':
    case 'staged':
      return 60;
  }
}
