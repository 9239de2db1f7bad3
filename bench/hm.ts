// How many heartbeating agents one refit-hm follows on this machine: agents are impersonated by a
// load generator publishing over a real nats-server, at BOSH's 30 s heartbeat cadence compressed
// by --factor (every interval of the monitor is compressed by the same factor). At each step N,
// after a warm-up, one agent goes silent: the monitor must alert it within agent_timeout + one
// analysis interval, and must not alert any agent that still heartbeats. The director's
// deployments API is a local HTTPS stand-in listing the N instances. Bounded in agents and time.
//
//   npx node bench/hm.ts [--factor F] [--steps 100,500,...] [--budget-s S] [--window-s S]
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { DirectorStandIn } from '../packages/hm/src/testing/director-stand-in.ts';
import { HeartbeatLoad, type ImpersonatedAgent } from '../packages/hm/src/testing/heartbeat-load.ts';
import { HmProcess, type HmLine } from '../packages/hm/src/testing/hm-process.ts';
import { NatsServer } from '../tests/e2e/vm-harness/nats-server.ts';

const { values: flags } = parseArgs({
  options: {
    factor: { type: 'string', default: '30' },
    steps: { type: 'string', default: '1000,4000,16000,32000,64000,96000,128000,160000,192000' },
    'budget-s': { type: 'string', default: '420' },
    'window-s': { type: 'string', default: '6' },
  },
});
const factor = Number(flags.factor);
const steps = flags.steps.split(',').map(Number);
const budgetMs = Number(flags['budget-s']) * 1000;
const windowMs = Number(flags['window-s']) * 1000;
const started = Date.now();

// BOSH's intervals (s), compressed.
const bosh = { heartbeat: 30, agentTimeout: 60, analyze: 60, poll: 60, grace: 30, rogue: 120 };
const c = (s: number) => s / factor;
const boundMs = (c(bosh.agentTimeout) + c(bosh.analyze)) * 1000;

// Linux reports process times in clock ticks of 1/100 s (USER_HZ).
const ticks = 100;
async function cpuSeconds(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / ticks; // utime + stime
}
async function rssMiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN) / 1024;
}
/** The pid of this run's nats-server (found by its port on the command line), or null. */
async function natsPid(port: number): Promise<number | null> {
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    const args = cmdline.split('\0');
    if (args[0]?.endsWith('nats-server') && args.includes(String(port))) return Number(entry);
  }
  return null;
}
const counters = (line: HmLine | undefined) =>
  (line?.counters ?? { heartbeats: 0 }) as { heartbeats: number };

interface Row {
  agents: number;
  publishedPerS: number;
  receivedPerS: number;
  latencyS: number | null;
  falseAlerts: number;
  cpuPercent: number;
  /** This process: the load generator and the director stand-in. */
  benchCpuPercent: number;
  natsCpuPercent: number;
  /** NATS connection events of the monitor (disconnects, reconnects, slow-consumer errors). */
  natsEvents: number;
  rssMiB: number;
  ok: boolean;
}

const dir = await mkdtemp(join(tmpdir(), 'refit-bench-hm-'));
const nats = await NatsServer.start(AbortSignal.timeout(10_000));
const natsServerPid = await natsPid(nats.port);
const director = await DirectorStandIn.start();
await writeFile(join(dir, 'ca.pem'), director.caPem);
/** What runs now, for cleanup on a stop or an error. */
const current: { hm: HmProcess | null; load: HeartbeatLoad | null } = { hm: null, load: null };
const stop = new AbortController();
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.once(signal, () => stop.abort());

async function step(n: number): Promise<Row> {
  const agents: ImpersonatedAgent[] = Array.from({ length: n }, (_, i) => ({
    agentId: `bench-agent-${i}`,
    deployment: 'bench',
    job: `group-${i % 10}`,
    index: i,
    instanceId: `bench-instance-${i}`,
  }));
  director.deployments = [{ name: 'bench', locked: false }];
  director.instances.set(
    'bench',
    agents.map((a) => ({
      id: a.instanceId,
      job: a.job,
      index: a.index,
      agent_id: a.agentId,
      cid: `vm-${a.index}`,
      expects_vm: true,
    })),
  );
  const config = join(dir, `hm-${n}.yml`);
  await writeFile(
    config,
    JSON.stringify({
      director: {
        url: director.url,
        user: director.user,
        password: director.password,
        ca_cert: join(dir, 'ca.pem'),
      },
      nats: { url: `nats://127.0.0.1:${nats.port}`, user: nats.user, password: nats.password },
      intervals: {
        poll_director: c(bosh.poll),
        analyze_agents: c(bosh.analyze),
        poll_grace_period: c(bosh.grace),
        agent_timeout: c(bosh.agentTimeout),
        rogue_agent_alert: c(bosh.rogue),
      },
      director_events: false,
    }),
  );
  const hm = HmProcess.spawn(['--config', config]);
  current.hm = hm;
  await hm.waitFor('ready', (l) => l.msg === 'hm ready');
  const load = await HeartbeatLoad.start(
    { url: `nats://127.0.0.1:${nats.port}`, user: nats.user, password: nats.password },
    agents,
    c(bosh.heartbeat) * 1000,
  );
  current.load = load;
  load.burst(); // every agent heartbeats once at start
  // Warm-up: the first poll, then two agent timeouts of steady load.
  await hm.waitFor('an analysis', (l) => l.msg === 'Analyzed', 60_000);
  await sleep(2 * c(bosh.agentTimeout) * 1000, undefined, { signal: stop.signal });

  // Measurement window under steady load.
  const cpu0 = await cpuSeconds(hm.pid);
  const benchCpu0 = process.cpuUsage();
  const natsCpu0 = natsServerPid === null ? NaN : await cpuSeconds(natsServerPid);
  const t0 = Date.now();
  const published0 = load.published;
  const received0 = counters(hm.lines.filter((l) => l.msg === 'Analyzed').at(-1));
  const received0At = hm.lines.filter((l) => l.msg === 'Analyzed').at(-1)?.receivedAt ?? t0;
  await sleep(windowMs, undefined, { signal: stop.signal });
  const cpu1 = await cpuSeconds(hm.pid);
  const benchCpu = process.cpuUsage(benchCpu0);
  const natsCpu1 = natsServerPid === null ? NaN : await cpuSeconds(natsServerPid);
  const t1 = Date.now();
  const rss = await rssMiB(hm.pid);
  const published1 = load.published;
  const lastAnalysis = hm.lines.filter((l) => l.msg === 'Analyzed').at(-1);
  const receivedPerS =
    lastAnalysis && lastAnalysis.receivedAt > received0At
      ? (counters(lastAnalysis).heartbeats - received0.heartbeats) /
        ((lastAnalysis.receivedAt - received0At) / 1000)
      : NaN;

  // One agent goes silent.
  const victim = agents[Math.floor(n / 2)]!;
  load.silence(victim.agentId);
  const silencedAt = Date.now();
  const title = `${victim.agentId} has timed out`;
  let latencyS: number | null = null;
  try {
    await hm.waitFor(
      'the silent agent alerted',
      (l) =>
        l.msg === 'alert' &&
        (l.alert as { title: string }).title === title &&
        (l as HmLine & { receivedAt: number }).receivedAt >= silencedAt,
      boundMs * 3 + 5000,
    );
    const alertLine = hm.alerts().find((a) => a.title === title && a.receivedAt >= silencedAt);
    if (alertLine === undefined) throw new Error('alerted only before it went silent');
    latencyS = (alertLine.receivedAt - (load.lastPublished(victim.agentId) ?? silencedAt)) / 1000;
  } catch {
    latencyS = null;
  }
  const natsEvents = hm.lines.filter(
    (l) => l.msg === 'nats status' && !['pingTimer', 'update'].includes(String(l.type)),
  ).length;
  const falseAlerts = hm.alerts().filter((a) => / has timed out$/.test(a.title) && a.title !== title).length;
  await load.stop();
  current.load = null;
  await hm.stop();
  current.hm = null;
  return {
    agents: n,
    publishedPerS: (published1 - published0) / ((t1 - t0) / 1000),
    receivedPerS,
    latencyS,
    falseAlerts,
    cpuPercent: ((cpu1 - cpu0) / ((t1 - t0) / 1000)) * 100,
    natsEvents,
    natsCpuPercent: ((natsCpu1 - natsCpu0) / ((t1 - t0) / 1000)) * 100,
    benchCpuPercent: ((benchCpu.user + benchCpu.system) / 1000 / (t1 - t0)) * 100,
    rssMiB: rss,
    ok: latencyS !== null && latencyS * 1000 <= boundMs + 250 && falseAlerts === 0,
  };
}

const rows: Row[] = [];
try {
  process.stdout.write(
    `refit-hm capacity: ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(1)} GiB; BOSH intervals compressed ×${factor}: ` +
      `heartbeat every ${c(bosh.heartbeat)} s, agent_timeout ${c(bosh.agentTimeout)} s, analysis every ${c(bosh.analyze)} s ` +
      `⇒ detection bound ${(boundMs / 1000).toFixed(2)} s (+0.25 s slack for the log pipe)\n`,
  );
  for (const n of steps) {
    if (stop.signal.aborted || Date.now() - started > budgetMs) break;
    let row: Row;
    try {
      row = await step(n);
    } catch (error) {
      if (stop.signal.aborted) break;
      const exited = current.hm?.child.exitCode ?? current.hm?.child.signalCode ?? null;
      // A monitor that cannot even analyse under this load: a failed step, not a failed run.
      process.stdout.write(
        `  ${n} agents: ${error instanceof Error ? error.message.split(';')[0] : String(error)}` +
          (exited === null
            ? ''
            : `; refit-hm exited (${exited}): ${current.hm?.stderr().slice(-500) ?? ''}`) +
          '\n',
      );
      await current.load?.stop();
      await current.hm?.stop();
      current.load = null;
      current.hm = null;
      row = {
        agents: n,
        publishedPerS: NaN,
        receivedPerS: NaN,
        latencyS: null,
        falseAlerts: NaN,
        cpuPercent: NaN,
        benchCpuPercent: NaN,
        natsCpuPercent: NaN,
        natsEvents: NaN,
        rssMiB: NaN,
        ok: false,
      };
    }
    rows.push(row);
    process.stdout.write(
      `  ${String(row.agents).padStart(6)} agents: latency ${row.latencyS === null ? 'none' : `${row.latencyS.toFixed(2)} s`}, ` +
        `false alerts ${row.falseAlerts}, ${row.ok ? 'ok' : 'FAILED'}\n`,
    );
    if (!row.ok) break;
  }
} finally {
  await current.load?.stop();
  await current.hm?.stop();
  await director.stop();
  await nats.stop();
  await rm(dir, { recursive: true, force: true });
}

const header = [
  'agents',
  'hb/s sent',
  'hb/s hm got',
  'detect (s)',
  'bound (s)',
  'false alerts',
  'hm CPU %',
  'hm RSS MiB',
  'loadgen CPU %',
  'nats CPU %',
  'hm nats events',
  'ok',
];
const table = rows.map((r) => [
  String(r.agents),
  Number.isNaN(r.publishedPerS) ? '-' : r.publishedPerS.toFixed(0),
  Number.isNaN(r.receivedPerS) ? '-' : r.receivedPerS.toFixed(0),
  r.latencyS === null ? 'missed' : r.latencyS.toFixed(2),
  (boundMs / 1000).toFixed(2),
  Number.isNaN(r.falseAlerts) ? '-' : String(r.falseAlerts),
  Number.isNaN(r.cpuPercent) ? '-' : r.cpuPercent.toFixed(1),
  Number.isNaN(r.rssMiB) ? '-' : r.rssMiB.toFixed(0),
  Number.isNaN(r.benchCpuPercent) ? '-' : r.benchCpuPercent.toFixed(1),
  Number.isNaN(r.natsCpuPercent) ? '-' : r.natsCpuPercent.toFixed(1),
  Number.isNaN(r.natsEvents) ? '-' : String(r.natsEvents),
  r.ok ? 'yes' : 'NO',
]);
const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => row[i]!.length)));
const line = (cells: string[]) => `| ${cells.map((cell, i) => cell.padStart(widths[i]!)).join(' | ')} |`;
process.stdout.write(
  `\n${line(header)}\n|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|\n${table.map(line).join('\n')}\n`,
);
const followed = rows.filter((r) => r.ok).at(-1)?.agents ?? 0;
process.stdout.write(
  `\nlargest step followed with detection in bound and no false alert: ${followed} agents ` +
    `(${((followed / bosh.heartbeat) * factor).toFixed(0)} heartbeats/s, the heartbeat rate of ${followed * factor} agents at BOSH's real ` +
    `30 s cadence; memory was measured with ${followed} agents, and grows with the number of agents)\n` +
    `rerun: npx node bench/hm.ts --factor ${factor} --steps ${steps.join(',')} --budget-s ${budgetMs / 1000} --window-s ${windowMs / 1000}\n`,
);
