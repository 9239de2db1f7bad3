import { setTimeout as sleep } from 'node:timers/promises';
import type { HmLog } from './hm-log.ts';

/** Polls `probe` until true; fails after `timeoutMs`. For tests. */
export async function waitFor(
  what: string,
  probe: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** A log that keeps its lines, for assertions. */
export function memoryLog(): HmLog & {
  lines: Array<{ level: string; msg: string; fields?: Record<string, unknown> }>;
} {
  const lines: Array<{ level: string; msg: string; fields?: Record<string, unknown> }> = [];
  const at = (level: string) => (msg: string, fields?: Record<string, unknown>) => {
    lines.push(fields === undefined ? { level, msg } : { level, msg, fields });
  };
  return {
    lines,
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    close: async () => {},
  };
}
