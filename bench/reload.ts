// OS reload against recreate: the same stemcell bump (1.1 → 1.2) on the same deployment
// (N instances with persistent disks, real refit-cpi-local VMs, real agents, the director as a
// process with its own nats-server), once with `?strategy=reload` and once with the default
// recreate. The CPI's latency model (cpi-local `delays`) is set to the seed figures (create VM
// 210 s, reboot 3 s: OpenStack as bosh-notes/os-reload quotes it) scaled by one factor.
//
// Per instance downtime is observed from the host: the longest interval during the rollout in
// which the instance's job process did not exist (drain is 0 s here, so it is drain start → jobs
// running up to the pre-stop script). The director's own figure for reloads (debug log) is
// printed beside it. Rootfs bytes are what the agents report reading from the blobstore.
//
// The director runs with its defaults (get_task polled 50 ms after an async action, doubling up
// to 1 s); `--poll-interval S` sets the agent.task_poll_interval_seconds cap.
//
//   npx node bench/reload.ts [--instances 3] [--scale 0.01] [--max-in-flight 1] [--poll-interval 1]   (as root)
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { parse, stringify } from 'yaml';
import {
  startDirector,
  type RunningDirector,
} from '../packages/director/src/stemcells/director-process.test-support.ts';
import { buildRelease } from '../packages/testkit/src/release/build-release.ts';
import { callCpi } from '../tests/e2e/vm-harness/cpi-process.ts';

const run = promisify(execFile);
const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const stemcellBin = join(repo, 'packages/stemcell/bin/refit-stemcell');
const raw = { 'content-type': 'application/x-compressed' };
const yaml = { 'content-type': 'text/yaml' };
/** Seed figures (ms): reference bosh-protocols §6, "reboot on OpenStack takes 3 seconds, create VM takes 3.5 minutes". */
const SEED = { create_vm: 210_000, reboot_vm: 3_000 } as const;

const { values: args } = parseArgs({
  options: {
    instances: { type: 'string', default: '3' },
    scale: { type: 'string', default: '0.01' },
    'max-in-flight': { type: 'string', default: '1' },
    'poll-interval': { type: 'string' },
  },
});
const instances = Number(args.instances);
const scale = Number(args.scale);
const maxInFlight = Number(args['max-in-flight']);
const pollInterval = args['poll-interval'] === undefined ? null : Number(args['poll-interval']);

const ctl = `#!/bin/sh
RUN=/var/vcap/sys/run/web
case "$1" in
  start)
    mkdir -p "$RUN" /var/vcap/store/web
    /bin/sh -c 'while :; do sleep 1; done' refit-bench-reload-<%= spec.id %> </dev/null >/dev/null 2>&1 &
    echo $! > "$RUN/web.pid"
    ;;
  stop)
    [ -f "$RUN/web.pid" ] && kill "$(cat "$RUN/web.pid")" 2>/dev/null
    rm -f "$RUN/web.pid"
    ;;
esac
`;

function manifest(stemcell: string): string {
  return stringify({
    name: 'bench',
    releases: [{ name: 'app', version: 'latest' }],
    stemcells: [{ alias: 'default', os: 'refit-minimal', version: stemcell }],
    update: {
      canaries: 1,
      max_in_flight: maxInFlight,
      canary_watch_time: '500-30000',
      update_watch_time: '500-30000',
    },
    instance_groups: [
      {
        name: 'web',
        azs: ['z1'],
        instances,
        jobs: [{ name: 'web', release: 'app', properties: {} }],
        vm_type: 'default',
        stemcell: 'default',
        persistent_disk: 64,
        networks: [{ name: 'default' }],
      },
    ],
  });
}

/** Host-side watch: every 20 ms, which instances' job process exists; longest absence per instance. */
class JobWatch {
  readonly #ids: string[];
  readonly #goneSince = new Map<string, number>();
  readonly longest = new Map<string, number>();
  #stop = false;
  #done: Promise<void>;
  constructor(ids: string[]) {
    this.#ids = ids;
    this.#done = this.#loop();
  }
  async #loop() {
    while (!this.#stop) {
      const seen = new Set<string>();
      for (const pid of await readdir('/proc').catch(() => [] as string[])) {
        if (!/^\d+$/.test(pid)) continue;
        const cmd = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
        const m = /refit-bench-reload-([0-9a-f-]{36})/.exec(cmd);
        if (m?.[1]) seen.add(m[1]);
      }
      const now = performance.now();
      for (const id of this.#ids) {
        const since = this.#goneSince.get(id);
        if (!seen.has(id) && since === undefined) this.#goneSince.set(id, now);
        if (seen.has(id) && since !== undefined) {
          this.longest.set(id, Math.max(this.longest.get(id) ?? 0, now - since));
          this.#goneSince.delete(id);
        }
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  async stop() {
    this.#stop = true;
    await this.#done;
  }
}

interface Rollout {
  readonly strategy: string;
  readonly totalMs: number;
  readonly downtimes: number[];
  readonly directorDowntimes: number[];
  /** Step → ms per reloaded instance (the director's debug log). */
  readonly steps: Map<string, number[]>;
  readonly rootfsBytes: number;
  readonly createVm: number;
  readonly deleteVm: number;
}

async function main() {
  if (process.getuid?.() !== 0) throw new Error('bench/reload.ts needs root (refit-cpi-local VMs)');
  const work = await mkdtemp(join(tmpdir(), 'refit-bench-reload-'));
  let director: RunningDirector | undefined;
  const stateDir = join(work, 'director');
  const cpiYml = join(stateDir, 'cpi-local', 'cpi.yml');
  try {
    const rootfs = new Map<string, string>();
    for (const v of ['1.1', '1.2']) {
      const { stdout } = await run(
        stemcellBin,
        [
          'build',
          '--name',
          'refit-bench',
          '--version',
          v,
          '--os',
          'refit-minimal',
          '--out',
          join(work, `sc-${v}`),
          '--base',
          'minimal',
        ],
        { maxBuffer: 1 << 22 },
      );
      rootfs.set(v, (JSON.parse(stdout) as { rootfs: { path: string } }).rootfs.path);
    }
    const configFile = join(work, 'director.yml');
    await writeFile(
      configFile,
      stringify(pollInterval === null ? {} : { agent: { task_poll_interval_seconds: pollInterval } }),
    );
    director = await startDirector({ stateDir, configFile });
    const d = director;
    const task = async (reply: Promise<Awaited<ReturnType<RunningDirector['request']>>>, what: string) => {
      const id = d.taskOf(await reply);
      const t = await d.waitTask(id, 900_000);
      if (t.state !== 'done') throw new Error(`${what}: ${t.state}\n${await d.output(id, 'event')}`);
      return id;
    };
    const upload = async (path: string, file: string) =>
      task(d.request('POST', path, { body: await readFile(file), headers: raw, timeoutMs: 120_000 }), path);
    await upload('/stemcells', join(work, 'sc-1.1/stemcell.tgz'));
    await upload('/stemcells', join(work, 'sc-1.2/stemcell.tgz'));
    await upload('/rootfs', rootfs.get('1.2') ?? '');
    const rel = await buildRelease({
      name: 'app',
      version: '1',
      jobs: [
        {
          name: 'web',
          monit:
            'check process web\n  with pidfile /var/vcap/sys/run/web/web.pid\n  start program "/var/vcap/jobs/web/bin/ctl start"\n  stop program "/var/vcap/jobs/web/bin/ctl stop"\n  group vcap\n',
          templates: { 'ctl.erb': ctl },
          destinations: { 'ctl.erb': 'bin/ctl' },
          packages: [],
          properties: {},
        },
      ],
      packages: [],
    });
    await task(d.request('POST', '/releases', { body: rel.tarball, headers: raw }), 'upload release');
    const cc = await d.request('POST', '/cloud_configs?name=default', {
      headers: yaml,
      body: stringify({
        azs: [{ name: 'z1' }],
        vm_types: [{ name: 'default' }],
        networks: [
          {
            name: 'default',
            type: 'manual',
            subnets: [{ range: '127.0.53.0/24', gateway: '127.0.53.1', az: 'z1' }],
          },
        ],
        compilation: { workers: 1, az: 'z1', vm_type: 'default', network: 'default' },
      }),
    });
    assert.equal(cc.status, 201);

    const setDelays = async (delays: Record<string, number>) => {
      const doc = (parse(await readFile(cpiYml, 'utf8')) ?? {}) as Record<string, unknown>;
      await writeFile(cpiYml, stringify({ ...doc, delays }), { mode: 0o600 });
    };
    const scaled = Object.fromEntries(Object.entries(SEED).map(([k, v]) => [k, Math.round(v * scale)]));

    const rollout = async (strategy: 'reload' | 'recreate'): Promise<Rollout> => {
      await setDelays({});
      await task(d.request('POST', '/deployments', { body: manifest('1.1'), headers: yaml }), 'deploy 1.1');
      const ids = (await d.request('GET', '/deployments/bench/instances'))
        .json<{ id: string }[]>()
        .map((i) => i.id);
      await setDelays(scaled);
      const watch = new JobWatch(ids);
      await new Promise((r) => setTimeout(r, 200));
      const t0 = performance.now();
      const id = await task(
        d.request('POST', `/deployments?strategy=${strategy}`, { body: manifest('1.2'), headers: yaml }),
        `${strategy} to 1.2`,
      );
      const totalMs = performance.now() - t0;
      await new Promise((r) => setTimeout(r, 200));
      await watch.stop();
      await setDelays({});
      const debug = await d.output(id, 'debug');
      const cpi = await d.output(id, 'cpi');
      const result: Rollout = {
        strategy,
        totalMs,
        downtimes: ids.map((i) => watch.longest.get(i) ?? Number.NaN),
        directorDowntimes: [...debug.matchAll(/downtime (\d+) ms/g)].map((m) => Number(m[1])),
        steps: stepTimes(debug),
        rootfsBytes: [...debug.matchAll(/done on .*?, (\d+) bytes fetched/g)].reduce(
          (n, m) => n + Number(m[1]),
          0,
        ),
        createVm: (cpi.match(/"method":"create_vm"/g) ?? []).length,
        deleteVm: (cpi.match(/"method":"delete_vm"/g) ?? []).length,
      };
      await task(d.request('DELETE', '/deployments/bench'), 'delete deployment');
      return result;
    };

    const reload = await rollout('reload');
    const recreate = await rollout('recreate');

    console.log(
      `\nOS reload vs recreate: stemcell 1.1 → 1.2, ${instances} instances with persistent disks, max_in_flight ${maxInFlight}`,
    );
    console.log(
      `latency model: seed figures × ${scale} (1/${Math.round(1 / scale)}): ${Object.entries(scaled)
        .map(([k, v]) => `${k} ${v} ms`)
        .join(
          ', ',
        )}; other CPI methods 0 ms; the in-VM reboot of a reload is the VM's real boot, not reboot_vm`,
    );
    console.log(
      `director: get_task ${pollInterval === null ? 'adaptive, 50 ms doubling up to 1 s (default)' : `adaptive up to ${pollInterval} s (agent.task_poll_interval_seconds)`}`,
    );
    const row = (r: Rollout) =>
      `| ${r.strategy} | ${percentile(r.downtimes, 50).toFixed(0)} ms | ${percentile(r.downtimes, 95).toFixed(0)} ms | ${r.directorDowntimes.length ? `${percentile(r.directorDowntimes, 50).toFixed(0)} ms` : 'n/a'} | ${(r.totalMs / 1000).toFixed(1)} s | ${(r.rootfsBytes / 1e6).toFixed(1)} MB | ${r.createVm} / ${r.deleteVm} |`;
    console.log(
      '\n| strategy | downtime p50 (host) | downtime p95 (host) | downtime p50 (director) | total rollout | rootfs bytes from blobstore | create_vm / delete_vm |',
    );
    console.log('|---|---|---|---|---|---|---|');
    console.log(row(reload));
    console.log(row(recreate));
    if (reload.steps.size > 0) {
      console.log('\nreload downtime by step (director debug log), p50 over the instances:');
      console.log(
        [...reload.steps].map(([step, ms]) => `${step} ${percentile(ms, 50).toFixed(0)} ms`).join(', '),
      );
    }
    const ratio = (a: number, b: number) => (a / b).toFixed(3);
    console.log(
      `\nreload/recreate: downtime p50 ${ratio(percentile(reload.downtimes, 50), percentile(recreate.downtimes, 50))} (recreate ${(percentile(recreate.downtimes, 50) / percentile(reload.downtimes, 50)).toFixed(1)}× longer), p95 ${ratio(percentile(reload.downtimes, 95), percentile(recreate.downtimes, 95))}, total ${ratio(reload.totalMs, recreate.totalMs)}`,
    );
    const bars = [
      { label: 'reload downtime p50', value: percentile(reload.downtimes, 50) },
      { label: 'recreate downtime p50', value: percentile(recreate.downtimes, 50) },
      { label: 'reload total rollout', value: reload.totalMs },
      { label: 'recreate total rollout', value: recreate.totalMs },
    ];
    console.log(`\n${barChart(bars, 'ms')}`);
    const out = join(repo, 'bench/out');
    await mkdir(out, { recursive: true });
    await writeFile(
      join(out, 'reload.svg'),
      svgBars(bars, `OS reload vs recreate (latency model × ${scale})`, 'ms'),
    );
    console.log(`plot: bench/out/reload.svg`);
  } finally {
    if (director) {
      await director.stop().catch(() => undefined);
      const cpi = {
        command: join(repo, 'packages/cpi-local/bin/refit-cpi-local'),
        args: ['--config', cpiYml],
      };
      for (const vm of await readdir(join(stateDir, 'cpi-local/state/vms')).catch(() => [] as string[]))
        await callCpi(cpi, 'delete_vm', [vm]).catch(() => undefined);
    }
    await rm(work, { recursive: true, force: true });
  }
}

/** `reload <i>: downtime by step (ms): stopping 120, rebooting 15, …` lines → step → ms values. */
function stepTimes(debug: string): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const line of debug.matchAll(/downtime by step \(ms\): (.*)$/gm)) {
    for (const part of (line[1] ?? '').split(', ')) {
      const m = /^(.*) (\d+)$/.exec(part);
      if (m?.[1] !== undefined) out.set(m[1], [...(out.get(m[1]) ?? []), Number(m[2])]);
    }
  }
  return out;
}

/** Nearest-rank percentile of finite values (NaN when none). */
export function percentile(values: readonly number[], p: number): number {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  return (
    sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? Number.NaN
  );
}

export interface Bar {
  readonly label: string;
  readonly value: number;
}

/** A terminal bar chart, bars scaled to the largest value. */
export function barChart(bars: readonly Bar[], unit: string, width = 50): string {
  const max = Math.max(...bars.map((b) => b.value), 1);
  const pad = Math.max(...bars.map((b) => b.label.length));
  return bars
    .map(
      (b) =>
        `${b.label.padEnd(pad)} | ${'#'.repeat(Math.max(1, Math.round((b.value / max) * width)))} ${b.value.toFixed(0)} ${unit}`,
    )
    .join('\n');
}

const esc = (s: string) => s.replace(/[<>&]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;' })[c] ?? c);

/** The same chart as an SVG document. */
export function svgBars(bars: readonly Bar[], title: string, unit: string): string {
  const max = Math.max(...bars.map((b) => b.value), 1);
  const rowH = 32;
  const left = 200;
  const width = 760;
  const height = 50 + bars.length * rowH;
  const rows = bars.map((b, i) => {
    const y = 40 + i * rowH;
    const w = Math.max(1, Math.round((b.value / max) * (width - left - 120)));
    return `<text x="${left - 8}" y="${y + 16}" text-anchor="end" font-size="13">${esc(b.label)}</text><rect x="${left}" y="${y}" width="${w}" height="22" fill="${b.label.startsWith('reload') ? '#2a9d8f' : '#e76f51'}"/><text x="${left + w + 6}" y="${y + 16}" font-size="13">${b.value.toFixed(0)} ${unit}</text>`;
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif"><text x="10" y="22" font-size="15">${esc(title)}</text>${rows.join('')}</svg>\n`;
}

await main();
