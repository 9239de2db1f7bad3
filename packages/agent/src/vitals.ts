import { readFile, statfs } from 'node:fs/promises';
import type { AgentProcess, AgentVitals, BootedStemcell } from '@refit/protocol';
import type { AgentPaths } from './paths.ts';
import type { ProcessStatus } from './jobs/process-supervisor.ts';

interface CpuSample {
  readonly user: number;
  readonly sys: number;
  readonly wait: number;
  readonly total: number;
}

const CLK_TCK = 100;
const PAGE_KB = 4;

async function cpuSample(): Promise<CpuSample> {
  const line = (await readFile('/proc/stat', 'utf8')).split('\n')[0] ?? '';
  const n = line.trim().split(/\s+/).slice(1).map(Number);
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = n;
  return {
    user: user + nice,
    sys: system + irq + softirq,
    wait: iowait,
    total: user + nice + system + idle + iowait + irq + softirq + steal,
  };
}

async function meminfo(): Promise<Map<string, number>> {
  const map = new Map<string, number>();
  for (const line of (await readFile('/proc/meminfo', 'utf8')).split('\n')) {
    const m = /^(\w+):\s+(\d+)/.exec(line);
    if (m?.[1] !== undefined && m[2] !== undefined) map.set(m[1], Number(m[2]));
  }
  return map;
}

const pct = (part: number, whole: number): string =>
  whole > 0 ? String(Math.round((part / whole) * 100)) : '0';

async function diskVitals(path: string): Promise<{ percent: string; inode_percent: string } | undefined> {
  try {
    const s = await statfs(path);
    const used = s.blocks - s.bfree;
    // As df: used / (used + available to unprivileged users).
    const percent = pct(used, used + s.bavail);
    const inode_percent = pct(s.files - s.ffree, s.files);
    return { percent, inode_percent };
  } catch {
    return undefined;
  }
}

export async function uptimeSeconds(): Promise<number> {
  return Math.floor(Number((await readFile('/proc/uptime', 'utf8')).split(' ')[0]));
}

/**
 * Vitals as BOSH reports them (strings). CPU is the share of time since the previous sample
 * (since boot on the first call), as the Go agent's sigar collector does between heartbeats.
 */
export class VitalsSampler {
  #previous: CpuSample | null = null;
  readonly #paths: AgentPaths;
  readonly #persistentMounted: () => Promise<boolean>;

  constructor(paths: AgentPaths, persistentMounted: () => Promise<boolean>) {
    this.#paths = paths;
    this.#persistentMounted = persistentMounted;
  }

  async sample(): Promise<AgentVitals> {
    const now = await cpuSample();
    const before = this.#previous ?? { user: 0, sys: 0, wait: 0, total: 0 };
    this.#previous = now;
    const span = now.total - before.total;
    const share = (a: number, b: number): string => (span > 0 ? (((a - b) / span) * 100).toFixed(1) : '0.0');
    const mem = await meminfo();
    const memTotal = mem.get('MemTotal') ?? 0;
    const memUsed = memTotal - (mem.get('MemAvailable') ?? mem.get('MemFree') ?? 0);
    const swapTotal = mem.get('SwapTotal') ?? 0;
    const swapUsed = swapTotal - (mem.get('SwapFree') ?? 0);
    const load = (await readFile('/proc/loadavg', 'utf8')).split(' ');
    const disk: AgentVitals['disk'] = {};
    const system = await diskVitals(this.#paths.base);
    if (system) disk.system = system;
    const ephemeral = await diskVitals(this.#paths.dataDir);
    if (ephemeral) disk.ephemeral = ephemeral;
    if (await this.#persistentMounted()) {
      const persistent = await diskVitals(this.#paths.store);
      if (persistent) disk.persistent = persistent;
    }
    return {
      cpu: {
        user: share(now.user, before.user),
        sys: share(now.sys, before.sys),
        wait: share(now.wait, before.wait),
      },
      disk,
      load: [load[0] ?? '0.00', load[1] ?? '0.00', load[2] ?? '0.00'],
      mem: { kb: String(memUsed), percent: pct(memUsed, memTotal) },
      swap: { kb: String(swapUsed), percent: pct(swapUsed, swapTotal) },
      uptime: { secs: await uptimeSeconds() },
    };
  }
}

/** A process as get_state lists it, with uptime, memory and CPU read from /proc. */
export async function processVitals(status: ProcessStatus): Promise<AgentProcess> {
  const base: AgentProcess = { name: status.name, state: status.state };
  if (status.pid === null) return base;
  try {
    const stat = await readFile(`/proc/${status.pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields after the command name start at field 3 (state): utime=14, stime=15, starttime=22, rss=24.
    const at = (n: number): number => Number(fields[n - 3] ?? 0);
    const uptime = await uptimeSeconds();
    const secs = Math.max(0, Math.floor(uptime - at(22) / CLK_TCK));
    const kb = at(24) * PAGE_KB;
    const memTotal = (await meminfo()).get('MemTotal') ?? 0;
    const cpuSecs = (at(14) + at(15)) / CLK_TCK;
    return {
      ...base,
      uptime: { secs },
      mem: { kb, percent: memTotal > 0 ? Math.round((kb / memTotal) * 1000) / 10 : 0 },
      cpu: { total: secs > 0 ? Math.round((cpuSecs / secs) * 1000) / 10 : 0 },
    };
  } catch {
    return base;
  }
}

/** The root that booted: BOSH's stemcell version file and /etc/os-release, both written by the stemcell builder. */
export async function bootedStemcell(paths: AgentPaths): Promise<BootedStemcell | undefined> {
  const read = async (file: string): Promise<string | null> => {
    try {
      return (await readFile(file, 'utf8')).trim();
    } catch {
      return null;
    }
  };
  const osRelease = new Map<string, string>();
  for (const line of ((await read(paths.osRelease)) ?? '').split('\n')) {
    const m = /^([A-Z_]+)=(.*)$/.exec(line.trim());
    if (m?.[1] !== undefined && m[2] !== undefined) osRelease.set(m[1], m[2].replace(/^"(.*)"$/, '$1'));
  }
  const version = (await read(paths.stemcellVersionFile)) ?? osRelease.get('REFIT_STEMCELL_VERSION') ?? null;
  if (version === null || version === '') return undefined;
  const name = (await read(paths.stemcellNameFile)) ?? osRelease.get('REFIT_STEMCELL_NAME');
  // BOSH's operating_system file names the OS as stemcells do (ubuntu-jammy); os-release is the fallback.
  const id = osRelease.get('ID');
  const versionId = osRelease.get('VERSION_ID');
  const os =
    (await read(paths.operatingSystemFile)) ??
    (id === undefined ? undefined : `${id}${versionId ? `-${versionId}` : ''}`);
  return { version, ...(name ? { name } : {}), ...(os ? { os } : {}) };
}
