import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import type { LocalProcessId } from '@refit/protocol';

async function readStat(pid: number): Promise<string[] | null> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // comm (field 2) may hold spaces and parentheses: split after its closing parenthesis.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return rest; // rest[0] is field 3 (state), rest[19] is field 22 (starttime)
  } catch {
    return null;
  }
}

/** A live process: exists and is not a zombie (zombies of orphans are reaped slowly here). */
export async function isAlive(pid: number): Promise<boolean> {
  const stat = await readStat(pid);
  return stat !== null && stat[0] !== 'Z' && stat[0] !== 'X';
}

export async function processId(pid: number): Promise<LocalProcessId | null> {
  const stat = await readStat(pid);
  const start = stat?.[19];
  return start === undefined ? null : { pid, start };
}

/** The same process as recorded (not a reused pid), and alive. */
export async function isSameAlive(id: LocalProcessId): Promise<boolean> {
  const stat = await readStat(id.pid);
  return stat !== null && stat[19] === id.start && stat[0] !== 'Z' && stat[0] !== 'X';
}

export async function waitGone(id: LocalProcessId, signal: AbortSignal): Promise<void> {
  while (await isSameAlive(id)) {
    signal.throwIfAborted();
    await sleep(5);
  }
}

/** Sends a signal to the recorded process only if it is still that process. */
export async function signalProcess(id: LocalProcessId, sig: NodeJS.Signals): Promise<boolean> {
  if (!(await isSameAlive(id))) return false;
  try {
    process.kill(id.pid, sig);
    return true;
  } catch {
    return false;
  }
}

export async function childPids(pid: number): Promise<number[]> {
  try {
    const text = await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8');
    return text
      .trim()
      .split(/\s+/)
      .filter((s) => s !== '')
      .map(Number);
  } catch {
    return [];
  }
}
