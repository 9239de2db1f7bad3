import { DeployPlanRowAsRead, VmInfoAsRead } from '@refit/protocol';
import type { z } from 'zod';
import { query, type DirectorClient } from './director-client.ts';
import { DirectorBadResponseError } from './errors.ts';

export interface ProcessInfo {
  readonly name: string;
  readonly state: string;
  readonly uptimeSecs: number | undefined;
  readonly memKb: number | undefined;
  readonly memPercent: number | undefined;
  readonly cpuTotal: number | undefined;
}

export interface UsageInfo {
  readonly kb: string;
  readonly percent: string;
}

export interface DiskInfo {
  readonly percent: string;
  readonly inodePercent: string;
}

export interface VitalsInfo {
  readonly cpuUser: string;
  readonly cpuSys: string;
  readonly cpuWait: string;
  readonly load: readonly string[];
  readonly mem: UsageInfo | undefined;
  readonly swap: UsageInfo | undefined;
  readonly uptimeSecs: number | undefined;
  readonly disks: Readonly<Record<'system' | 'ephemeral' | 'persistent', DiskInfo | undefined>>;
}

/** One VM (`vms`) or instance (`instances`) line of the director's `format=full` result. */
export interface VmInfo {
  readonly deployment: string;
  readonly group: string;
  readonly id: string;
  readonly index: number | undefined;
  readonly agentId: string;
  /** `job_state`: running, failing, stopped, unresponsive agent… */
  readonly processState: string;
  readonly state: string;
  readonly active: boolean | undefined;
  readonly bootstrap: boolean;
  readonly ignore: boolean;
  readonly az: string;
  readonly ips: readonly string[];
  readonly vmCid: string;
  readonly vmType: string;
  /** As the director wrote it (RFC 3339 or `2006-01-02 15:04:05 -0700`); empty when unknown. */
  readonly vmCreatedAt: string;
  readonly diskCids: readonly string[];
  readonly processes: readonly ProcessInfo[];
  readonly vitals: VitalsInfo | undefined;
  /** `name/version` the director recorded for the VM (the `vms` Stemcell column). */
  readonly stemcell: string;
  /** The version the VM booted (as its agent reports it), else the recorded one. */
  readonly stemcellVersion: string;
  /** The digest of the root the VM booted, when its agent reports one. */
  readonly rootDigest: string;
}

/** `GET /deployments/<d>/vms?format=full` or `/instances?format=full`: the task id. */
export function startVmInfosTask(
  client: DirectorClient,
  deployment: string,
  kind: 'vms' | 'instances',
  signal: AbortSignal,
): Promise<number> {
  return client.startTask(
    'GET',
    `/deployments/${encodeURIComponent(deployment)}/${kind}${query({ format: 'full' })}`,
    signal,
  );
}

/** Newline-delimited JSON objects (a task's result output), each parsed with `schema`. */
export function parseJsonLines<T>(text: string, schema: z.ZodType<T>, what: string): T[] {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line, n) => {
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch (error) {
        throw new DirectorBadResponseError(`Unmarshaling ${what} line ${n + 1}: not JSON`, { cause: error });
      }
      const parsed = schema.safeParse(value);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        throw new DirectorBadResponseError(
          `Unmarshaling ${what} line ${n + 1} at ${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'unexpected shape'}`,
        );
      }
      return parsed.data;
    });
}

const usage = (
  value: { kb?: string | null | undefined; percent?: string | null | undefined } | null | undefined,
) =>
  value === null || value === undefined ? undefined : { kb: value.kb ?? '', percent: value.percent ?? '' };

const diskUsage = (
  value:
    { percent?: string | null | undefined; inode_percent?: string | null | undefined } | null | undefined,
) =>
  value === null || value === undefined
    ? undefined
    : { percent: value.percent ?? '', inodePercent: value.inode_percent ?? '' };

/** The task's result lines as typed values (an empty result means no VMs). */
export function parseVmInfos(deployment: string, resultText: string): VmInfo[] {
  return parseJsonLines(resultText, VmInfoAsRead, 'vm info').map((v) => {
    const vitals = v.vitals;
    return {
      deployment,
      group: v.job_name ?? '',
      id: v.id ?? '',
      index: v.index ?? undefined,
      agentId: v.agent_id ?? '',
      processState: v.job_state ?? '',
      state: v.state ?? '',
      active: v.active ?? undefined,
      bootstrap: v.bootstrap === true,
      ignore: v.ignore === true,
      az: v.az ?? '',
      ips: v.ips ?? [],
      vmCid: v.vm_cid ?? '',
      vmType:
        v.vm_type === null || v.vm_type === undefined || v.vm_type === ''
          ? (v.resource_pool ?? '')
          : v.vm_type,
      vmCreatedAt: v.vm_created_at ?? '',
      diskCids:
        v.disk_cids ??
        (v.disk_cid === null || v.disk_cid === undefined || v.disk_cid === '' ? [] : [v.disk_cid]),
      processes: (v.processes ?? []).map((p) => ({
        name: p.name ?? '',
        state: p.state ?? '',
        uptimeSecs: p.uptime?.secs ?? undefined,
        memKb: p.mem?.kb ?? undefined,
        memPercent: p.mem?.percent ?? undefined,
        cpuTotal: p.cpu?.total ?? undefined,
      })),
      vitals:
        vitals === null || vitals === undefined
          ? undefined
          : {
              cpuUser: vitals.cpu?.user ?? '',
              cpuSys: vitals.cpu?.sys ?? '',
              cpuWait: vitals.cpu?.wait ?? '',
              load: vitals.load ?? [],
              mem: usage(vitals.mem),
              swap: usage(vitals.swap),
              uptimeSecs: vitals.uptime?.secs ?? undefined,
              disks: {
                system: diskUsage(vitals.disk?.system),
                ephemeral: diskUsage(vitals.disk?.ephemeral),
                persistent: diskUsage(vitals.disk?.persistent),
              },
            },
      stemcell:
        v.stemcell?.version === null || v.stemcell?.version === undefined || v.stemcell.version === ''
          ? ''
          : `${v.stemcell.name ?? ''}/${v.stemcell.version}`,
      stemcellVersion: v.booted_stemcell?.version ?? v.stemcell?.version ?? '',
      rootDigest: v.booted_stemcell?.root_digest ?? v.stemcell?.root_digest ?? '',
    };
  });
}

/** A running instance, as the stock CLI decides: job_state running and every process running. */
export function isRunning(info: VmInfo): boolean {
  return info.processState === 'running' && info.processes.every((p) => p.state === 'running');
}

export interface PlanRow {
  readonly instance: string;
  readonly az: string;
  readonly action: string;
  readonly strategy: string;
  readonly reason: string;
  readonly downloadBytes: number | undefined;
}

/**
 * A dry-run deploy's plan, from its result output: the lines that are plan rows (Refit's
 * director writes one JSON object per instance); anything else in the result is ignored.
 */
export function parsePlanRows(resultText: string): PlanRow[] {
  const rows: PlanRow[] = [];
  for (const line of resultText.split('\n')) {
    if (!line.trim().startsWith('{')) continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      continue;
    }
    const parsed = DeployPlanRowAsRead.safeParse(value);
    if (!parsed.success) continue;
    const r = parsed.data;
    rows.push({
      instance: r.instance,
      az: r.az ?? '',
      action: r.action ?? '',
      strategy: r.strategy ?? '',
      reason: r.reason ?? '',
      downloadBytes: r.download_bytes ?? undefined,
    });
  }
  return rows;
}
