import { rm } from 'node:fs/promises';
import { unmountAll } from '../host/mounts.ts';
import { processesMentioning } from './host-traces.ts';

/**
 * Test clean-up for a unique scratch dir holding a CPI state dir: kills every process that names
 * it (supervisors, unshare; VM processes die with their init), unmounts everything below it and
 * removes it. Only for dirs a test made: everything under them is the test's own.
 */
export async function removeScratch(dir: string): Promise<void> {
  for (let round = 0; round < 50; round++) {
    const left = await processesMentioning(dir);
    if (left.length === 0) break;
    for (const line of left) {
      const pid = Number(/^process (\d+)/.exec(line)?.[1]);
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  await unmountAll(dir);
  await rm(dir, { recursive: true, force: true });
}
