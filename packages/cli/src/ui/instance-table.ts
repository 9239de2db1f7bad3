import type { DiskInfo, ProcessInfo, UsageInfo, VmInfo } from '../director-client/vm-infos.ts';
import { int, text, type Cell, type TableData } from '../output.ts';
import { formatFullTime } from './time-format.ts';

/*
 * The stock CLI's instance table (cmd/instance_table.go layout) for `vms` and `instances`, plus
 * Refit's Stemcell and Root Digest columns under `instances --details`.
 */

export interface InstanceTableOptions {
  /** `vms`: VM CID, VM Type, Active, Stemcell always; no Deployment column. */
  readonly vmDetails: boolean;
  /** `instances --details`. */
  readonly details: boolean;
  /** `instances --ps`: a row per process under its instance. */
  readonly processes: boolean;
  readonly vitals: boolean;
}

const vitalsHeader = [
  'VM Created At',
  'Uptime',
  'Load\n(1m, 5m, 15m)',
  'CPU\nTotal',
  'CPU\nUser',
  'CPU\nSys',
  'CPU\nWait',
  'Memory\nUsage',
  'Swap\nUsage',
  'System\nDisk Usage',
  'Ephemeral\nDisk Usage',
  'Persistent\nDisk Usage',
];

export function instanceTableHeader(options: InstanceTableOptions): string[] {
  const header = ['Instance'];
  if (options.processes) header.push('Process');
  header.push('Process State', 'AZ', 'IPs');
  if (options.vmDetails) header.push('VM CID', 'VM Type', 'Active', 'Stemcell');
  else header.push('Deployment');
  if (options.details && !options.vmDetails) {
    header.push(
      'State',
      'VM CID',
      'VM Type',
      'Disk CIDs',
      'Agent ID',
      'Index',
      'Bootstrap',
      'Ignore',
      'Stemcell',
      'Root Digest',
    );
  }
  if (options.vitals) header.push(...vitalsHeader);
  return header;
}

/** `<group>/<id>`, `?` for a nameless group (as the stock CLI). */
export function instanceName(info: VmInfo): string {
  const group = info.group === '' ? '?' : info.group;
  return info.id === '' ? group : `${group}/${info.id}`;
}

const bool = (value: boolean): Cell => text(value ? 'true' : 'false');
const lines = (values: readonly string[]): Cell => text(values.join('\n'));
const percent = (value: string): string => (value === '' ? '' : `${value}%`);

/** `3d 4h 5m 6s`, as the stock CLI's uptime values. */
export function formatUptime(secs: number | undefined): string {
  if (secs === undefined) return '';
  const s = Math.max(0, Math.trunc(secs));
  return `${Math.trunc(s / 86400)}d ${Math.trunc(s / 3600) % 24}h ${Math.trunc(s / 60) % 60}m ${s % 60}s`;
}

/** go-humanize's Bytes (SI units): `605 MB`, `1.2 GB`. */
export function formatSiBytes(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB'];
  if (bytes < 10) return `${bytes} B`;
  const exponent = Math.min(Math.floor(Math.log10(bytes) / 3), units.length - 1);
  const value = Math.floor((bytes / 1000 ** exponent) * 10 + 0.5) / 10;
  return `${value < 10 ? value.toFixed(1) : value.toFixed(0)} ${units[exponent]}`;
}

function memory(value: UsageInfo | undefined): string {
  if (value === undefined || value.percent === '') return '';
  const kb = Number(value.kb);
  return Number.isFinite(kb) && value.kb !== ''
    ? `${value.percent}% (${formatSiBytes(kb * 1024)})`
    : `${value.percent}%`;
}

function disk(value: DiskInfo | undefined): string {
  if (value === undefined || value.percent === '') return '';
  return value.inodePercent === '' ? `${value.percent}%` : `${value.percent}% (${value.inodePercent}i%)`;
}

function createdAt(value: string): string {
  if (value === '') return '';
  const ms = Date.parse(value.replace(/ ([+-]\d{4})$/, '$1').replace(/ UTC$/, 'Z'));
  return Number.isNaN(ms) ? value : formatFullTime(Math.trunc(ms / 1000));
}

function vitalsCells(info: VmInfo): Cell[] {
  const v = info.vitals;
  return [
    text(createdAt(info.vmCreatedAt)),
    text(formatUptime(v?.uptimeSecs)),
    text((v?.load ?? []).join(', ')),
    text(''),
    text(percent(v?.cpuUser ?? '')),
    text(percent(v?.cpuSys ?? '')),
    text(percent(v?.cpuWait ?? '')),
    text(memory(v?.mem)),
    text(memory(v?.swap)),
    text(disk(v?.disks.system)),
    text(disk(v?.disks.ephemeral)),
    text(disk(v?.disks.persistent)),
  ];
}

function instanceRow(info: VmInfo, options: InstanceTableOptions): Cell[] {
  const row: Cell[] = [text(instanceName(info))];
  if (options.processes) row.push(text(''));
  row.push(text(info.processState), text(info.az), lines(info.ips));
  if (options.vmDetails) {
    row.push(
      text(info.vmCid),
      text(info.vmType),
      text(info.active === undefined ? '-' : String(info.active)),
      text(info.stemcell),
    );
  } else {
    row.push(text(info.deployment));
  }
  if (options.details && !options.vmDetails) {
    row.push(
      text(info.state),
      text(info.vmCid),
      text(info.vmType),
      lines(info.diskCids),
      text(info.agentId),
      info.index === undefined ? text('') : int(info.index),
      bool(info.bootstrap),
      bool(info.ignore),
      text(info.stemcellVersion),
      text(info.rootDigest),
    );
  }
  if (options.vitals) row.push(...vitalsCells(info));
  return row;
}

function processRow(
  info: VmInfo,
  process: ProcessInfo,
  width: number,
  options: InstanceTableOptions,
): Cell[] {
  const row: Cell[] = [text(instanceName(info)), text(process.name), text(process.state)];
  while (row.length < width) row.push(text(''));
  if (options.vitals) {
    const start = width - vitalsHeader.length;
    row[start + 1] = text(formatUptime(process.uptimeSecs));
    row[start + 3] = text(process.cpuTotal === undefined ? '' : `${process.cpuTotal.toFixed(1)}%`);
    row[start + 7] = text(
      process.memKb === undefined
        ? ''
        : `${(process.memPercent ?? 0).toFixed(1)}% (${formatSiBytes(process.memKb * 1024)})`,
    );
  }
  return row;
}

/** The table of one deployment's VMs (`vms`) or instances (`instances`). */
export function instanceTable(
  infos: readonly VmInfo[],
  options: InstanceTableOptions & { readonly title?: string; readonly content: 'vms' | 'instances' },
): TableData {
  const header = instanceTableHeader(options);
  const rows: Cell[][] = [];
  for (const info of infos) {
    rows.push(instanceRow(info, options));
    if (options.processes) {
      for (const process of info.processes) rows.push(processRow(info, process, header.length, options));
    }
  }
  return {
    content: options.content,
    ...(options.title === undefined ? {} : { title: options.title }),
    header,
    rows,
    sortBy: options.processes
      ? [
          { column: 0, asc: true },
          { column: 1, asc: true },
        ]
      : [{ column: 0, asc: true }],
  };
}
