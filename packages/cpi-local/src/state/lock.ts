import { mkdir, open, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { isAlive } from '../host/process.ts';

/**
 * A cross-process lock (CPI calls run in parallel): a file created with O_EXCL holding the
 * owner's pid. A lock whose owner died is taken over.
 */
export async function withLock<T>(
  dir: string,
  name: string,
  fn: () => Promise<T>,
  signal: AbortSignal = AbortSignal.timeout(60_000),
): Promise<T> {
  await mkdir(dir, { recursive: true });
  const path = join(dir, `${name}.lock`);
  for (;;) {
    signal.throwIfAborted();
    try {
      const handle = await open(path, 'wx');
      await handle.writeFile(String(process.pid));
      await handle.close();
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = Number((await readFile(path, 'utf8').catch(() => '')).trim());
      if (Number.isInteger(owner) && owner > 0 && !(await isAlive(owner))) {
        await unlink(path).catch(() => undefined);
        continue;
      }
      await sleep(5 + Math.random() * 10);
    }
  }
  try {
    return await fn();
  } finally {
    await unlink(path).catch(() => undefined);
  }
}
