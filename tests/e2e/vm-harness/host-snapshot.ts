import { readFile, readdir, readlink, stat } from 'node:fs/promises';

/** What a VM could leave behind on the host, restricted to what mentions `needle` (a path or id). */
export interface HostTraces {
  readonly processes: string[];
  readonly mounts: string[];
}

async function processTraces(needle: string): Promise<string[]> {
  const found: string[] = [];
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid) || Number(pid) === process.pid) continue;
    try {
      const status = await readFile(`/proc/${pid}/status`, 'utf8');
      if (/^State:\s+Z/m.test(status)) continue; // a zombie holds no namespace or mount
      const cmdline = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).replaceAll('\0', ' ').trim();
      const root = await readlink(`/proc/${pid}/root`).catch(() => '');
      const cwd = await readlink(`/proc/${pid}/cwd`).catch(() => '');
      if (cmdline.includes(needle) || root.includes(needle) || cwd.includes(needle)) {
        found.push(`${pid} ${cmdline} (root ${root})`);
      }
    } catch {
      /* the process ended while we looked */
    }
  }
  return found;
}

export async function hostTraces(needle: string): Promise<HostTraces> {
  const mountinfo = await readFile('/proc/self/mountinfo', 'utf8');
  return {
    processes: await processTraces(needle),
    mounts: mountinfo.split('\n').filter((line) => line.includes(needle)),
  };
}

export async function pathExists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
