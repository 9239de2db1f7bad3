import { formatBytes } from './time-format.ts';

/**
 * One upload progress line: `[#####-----]  45.00%  120 MiB / 266 MiB  38 MiB/s`.
 * `elapsedMs` 0 shows no rate.
 */
export function formatProgress(sent: number, total: number, elapsedMs: number, width = 30): string {
  const fraction = total <= 0 ? 1 : Math.min(1, sent / total);
  const filled = Math.round(fraction * width);
  const bar = `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}]`;
  const percent = `${(fraction * 100).toFixed(2)}%`.padStart(7, ' ');
  const rate = elapsedMs > 0 ? `  ${formatBytes(Math.round((sent * 1000) / elapsedMs))}/s` : '';
  return `${bar} ${percent}  ${formatBytes(sent)} / ${formatBytes(total)}${rate}`;
}

/** Redraws the progress line in place (carriage return), at most every `intervalMs`. */
export class ProgressBar {
  private readonly write: (text: string) => void;
  private readonly now: () => number;
  private readonly intervalMs: number;
  private started: number | undefined;
  private lastDraw = Number.NEGATIVE_INFINITY;
  private done = false;

  constructor(write: (text: string) => void, now: () => number = Date.now, intervalMs = 100) {
    this.write = write;
    this.now = now;
    this.intervalMs = intervalMs;
  }

  update(sent: number, total: number): void {
    if (this.done) return;
    const now = this.now();
    this.started ??= now;
    const finished = sent >= total;
    if (!finished && now - this.lastDraw < this.intervalMs) return;
    this.lastDraw = now;
    this.write(`\r${formatProgress(sent, total, now - this.started)}${finished ? '\n' : ''}`);
    if (finished) this.done = true;
  }
}
