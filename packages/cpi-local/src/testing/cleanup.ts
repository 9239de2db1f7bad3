import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { unmountAll } from '../host/mounts.ts';
import { processesMentioning } from './host-traces.ts';

/**
 * Test clean-up for a unique scratch dir under the temp dir holding a CPI state dir: unmounts
 * the host mounts below it, kills the processes that name it (supervisors, unshare; VM processes
 * die with their init, and are found by their own mount namespace), unmounts again and removes
 * it. Only for dirs a test made: everything under them is the test's own.
 */
export async function removeScratch(dir: string): Promise<void> {
  if (!dir.startsWith(`${tmpdir()}/`) || dir.length < tmpdir().length + 8) {
    throw new Error(`removeScratch: ${dir} is not a scratch dir under ${tmpdir()}`);
  }
  await unmountAll(dir);
  for (let round = 0; round < 50; round++) {
    const left = await processesMentioning(dir);
    if (left.length === 0) break;
    for (const line of left) {
      const pid = Number(/^process (\d+)/.exec(line)?.[1]);
      if (!Number.isInteger(pid) || pid <= 1 || pid === process.pid || pid === process.ppid) continue;
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
