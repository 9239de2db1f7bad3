// What the reload did, per instance, from what the CLI shows before and after and from the
// reload task's event log: strategy, VM CID and stemcell before/after, downtime (drain start →
// jobs running) and bytes fetched, and whether the persistent data kept its checksum.

export interface InstanceSnapshot {
  readonly cid: string;
  readonly stemcell: string;
  readonly dataSha256: string | null;
}

export interface ReportRow {
  readonly instance: string;
  readonly strategy: string;
  readonly cidBefore: string;
  readonly cidAfter: string;
  readonly stemcellBefore: string;
  readonly stemcellAfter: string;
  readonly downtimeSeconds: number | null;
  readonly fetched: string;
  readonly dataIntact: boolean;
}

interface EventLine {
  readonly time?: number;
  readonly task?: string;
  readonly state?: string;
  readonly data?: { status?: string };
}

export interface InstanceTimeline {
  drainStart?: number;
  jobsRunning?: number;
  fetched?: string;
}

/** `web/<uuid> (0) (canary)` → `web/<uuid>`. */
const instanceOf = (task: string): string => task.split(' ')[0] ?? task;

const SIZE = /(\d+(?:\.\d+)?)\s*(B|kB|KB|KiB|MB|MiB|GB|GiB)\b/g;

/**
 * Per instance, the event times of drain start (the first of pre-stop/drain) and of jobs
 * running (post-start, else the step's end), and the largest download size named in a status.
 * BOSH's event log has whole seconds, so downtime is ±1 s.
 */
export function timelines(eventLog: string): Map<string, InstanceTimeline> {
  const out = new Map<string, InstanceTimeline>();
  for (const text of eventLog.split('\n')) {
    if (!text.startsWith('{')) continue;
    let line: EventLine;
    try {
      line = JSON.parse(text) as EventLine;
    } catch {
      continue;
    }
    if (line.task === undefined || line.time === undefined) continue;
    const name = instanceOf(line.task);
    if (!name.includes('/')) continue;
    const t = out.get(name) ?? {};
    out.set(name, t);
    const status = line.data?.status ?? '';
    if (/executing (pre-stop|drain)/.test(status) && t.drainStart === undefined) t.drainStart = line.time;
    if (t.drainStart !== undefined && t.jobsRunning === undefined) {
      if (status.includes('executing post-start')) t.jobsRunning = line.time;
    }
    if (line.state === 'finished' && t.drainStart !== undefined) t.jobsRunning ??= line.time;
    if (/download|fetch/i.test(status)) {
      const sizes = [...status.matchAll(SIZE)].map((m) => m[0]);
      if (sizes.length > 0) t.fetched = sizes[sizes.length - 1]!;
    }
  }
  return out;
}

export function reportRows(input: {
  readonly before: ReadonlyMap<string, InstanceSnapshot>;
  readonly after: ReadonlyMap<string, InstanceSnapshot>;
  readonly plan: ReadonlyMap<string, { strategy: string; download: string }>;
  readonly events: ReadonlyMap<string, InstanceTimeline>;
}): ReportRow[] {
  return [...input.before.keys()].sort().map((instance) => {
    const b = input.before.get(instance)!;
    const a = input.after.get(instance);
    const t = input.events.get(instance);
    const planned = input.plan.get(instance);
    return {
      instance,
      strategy: planned?.strategy ?? '?',
      cidBefore: b.cid,
      cidAfter: a?.cid ?? '(gone)',
      stemcellBefore: b.stemcell,
      stemcellAfter: a?.stemcell ?? '?',
      downtimeSeconds:
        t?.drainStart !== undefined && t.jobsRunning !== undefined ? t.jobsRunning - t.drainStart : null,
      fetched:
        t?.fetched ??
        (planned && planned.download !== '' && planned.download !== '-' ? planned.download : '?'),
      dataIntact: b.dataSha256 !== null && b.dataSha256 === a?.dataSha256,
    };
  });
}

/** A plain text table, columns padded. */
export function renderTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

export function renderReport(rows: readonly ReportRow[]): string {
  const short = (cid: string) => (cid.length > 20 ? `${cid.slice(0, 8)}…${cid.slice(-6)}` : cid);
  return renderTable(
    [
      'Instance',
      'Strategy',
      'VM CID before → after',
      'Stemcell before → after',
      'Downtime',
      'Fetched',
      'Data',
    ],
    rows.map((r) => [
      r.instance.replace(/^([^/]+\/[0-9a-f]{8})[0-9a-f-]*$/, '$1…'),
      r.strategy,
      `${short(r.cidBefore)} → ${r.cidAfter === r.cidBefore ? 'same' : short(r.cidAfter)}`,
      `${r.stemcellBefore} → ${r.stemcellAfter}`,
      r.downtimeSeconds === null ? '?' : `${r.downtimeSeconds} s`,
      r.fetched,
      r.dataIntact ? 'sha256 ok' : 'CHANGED',
    ]),
  );
}
