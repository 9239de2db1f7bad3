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
  /** Where the downtime comes from: the debug log (ms) or event times (whole seconds). */
  readonly downtimeSource: 'debug' | 'events' | 'none';
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

/** What the director's debug log says of one reloaded instance (exact figures). */
export interface ReloadFigures {
  readonly downtimeMs: number;
  readonly bytesFetched: number;
}

const DEBUG_DONE = /reload (\S+\/\S+)[^:]*: done on \S+, downtime (\d+) ms[^,]*, (\d+) bytes fetched/;

/** Per instance, the director's own downtime (drain start → jobs running) and bytes fetched. */
export function debugFigures(debugLog: string): Map<string, ReloadFigures> {
  const out = new Map<string, ReloadFigures>();
  for (const line of debugLog.split('\n')) {
    const m = DEBUG_DONE.exec(line);
    if (m) out.set(m[1]!, { downtimeMs: Number(m[2]), bytesFetched: Number(m[3]) });
  }
  return out;
}

const siBytes = (n: number): string =>
  n < 1000
    ? `${n} B`
    : n < 1e6
      ? `${(n / 1e3).toFixed(1)} kB`
      : n < 1e9
        ? `${(n / 1e6).toFixed(1)} MB`
        : `${(n / 1e9).toFixed(2)} GB`;

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
  readonly debug: ReadonlyMap<string, ReloadFigures>;
}): ReportRow[] {
  return [...input.before.keys()].sort().map((instance) => {
    const b = input.before.get(instance)!;
    const a = input.after.get(instance);
    const t = input.events.get(instance);
    const planned = input.plan.get(instance);
    const exact = input.debug.get(instance);
    const fromEvents =
      t?.drainStart !== undefined && t.jobsRunning !== undefined ? t.jobsRunning - t.drainStart : null;
    return {
      instance,
      strategy: planned?.strategy ?? '?',
      cidBefore: b.cid,
      cidAfter: a?.cid ?? '(gone)',
      stemcellBefore: b.stemcell,
      stemcellAfter: a?.stemcell ?? '?',
      downtimeSeconds: exact ? exact.downtimeMs / 1000 : fromEvents,
      downtimeSource: exact ? 'debug' : fromEvents === null ? 'none' : 'events',
      fetched: exact
        ? siBytes(exact.bytesFetched)
        : (t?.fetched ??
          (planned && planned.download !== '' && planned.download !== '-'
            ? `${planned.download} (planned)`
            : '?')),
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
      r.downtimeSeconds === null
        ? '?'
        : r.downtimeSource === 'debug'
          ? `${r.downtimeSeconds.toFixed(1)} s`
          : `~${r.downtimeSeconds} s`,
      r.fetched,
      r.dataIntact ? 'sha256 ok' : 'CHANGED',
    ]),
  );
}
