import { readFile } from 'node:fs/promises';

/** The pid in a pidfile, or null when there is none or it is not a number. */
export async function readPidfile(file: string): Promise<number | null> {
  try {
    const text = (await readFile(file, 'utf8')).trim();
    const pid = Number.parseInt(text, 10);
    return Number.isInteger(pid) && pid > 0 && String(pid) === text.split(/\s/)[0] ? pid : null;
  } catch {
    return null;
  }
}

/** Whether a pid names a live process (a zombie is dead: it only waits to be reaped). */
export async function isAlive(pid: number): Promise<boolean> {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}
