// VMs on this machine with refit-cpi-local and a --base minimal stemcell: create_vm → first agent
// heartbeat, reboot_vm → first heartbeat, delete_vm (p50/p95 over N runs), and how many VMs the
// host holds while every agent answers `ping` within 1 s (ramped up in steps, bounded in count and
// time). Everything it creates is deleted at the end. Needs root, nats-server and busybox-static.
//
//   npx node bench/vms.ts [--runs N] [--step N] [--max-vms N] [--budget-s S] [--parallel N]
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, totalmem, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { parse } from 'yaml';
import { StemcellManifest } from '@refit/protocol';
import { AgentBus, HeartbeatWatch } from '../tests/e2e/vm-harness/agent-client.ts';
import { callCpi, type CpiCommand } from '../tests/e2e/vm-harness/cpi-process.ts';
import { NatsServer } from '../tests/e2e/vm-harness/nats-server.ts';

const run = promisify(execFile);
const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');

const { values: flags } = parseArgs({
  options: {
    runs: { type: 'string', default: '10' },
    step: { type: 'string', default: '16' },
    'max-vms': { type: 'string', default: '256' },
    'budget-s': { type: 'string', default: '480' },
    parallel: { type: 'string', default: '4' },
  },
});
const runs = Number(flags.runs);
const step = Number(flags.step);
const maxVms = Number(flags['max-vms']);
const budgetMs = Number(flags['budget-s']) * 1000;
const parallel = Number(flags.parallel);

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

/**
 * Memory of this run's VMs: the PSS (shared pages split between their users, so the node binary
 * mapped by every agent counts once) of every process descending from a process whose command
 * line names the CPI state dir (the VM supervisors and their namespaces).
 */
async function vmMemoryMb(stateDir: string): Promise<number> {
  const parent = new Map<number, number>();
  const roots = new Set<number>();
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    try {
      const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
      parent.set(pid, Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
      if ((await readFile(`/proc/${pid}/cmdline`, 'utf8')).includes(stateDir)) roots.add(pid);
    } catch {
      /* gone */
    }
  }
  let kb = 0;
  for (const pid of parent.keys()) {
    let p: number | undefined = pid;
    for (let hops = 0; p !== undefined && p > 1 && hops < 64 && !roots.has(p); hops++) p = parent.get(p);
    if (p === undefined || !roots.has(p)) continue;
    try {
      const rollup = await readFile(`/proc/${pid}/smaps_rollup`, 'utf8');
      kb += Number(/^Pss:\s+(\d+)/m.exec(rollup)?.[1] ?? 0);
    } catch {
      /* gone or a kernel thread */
    }
  }
  return kb / 1024;
}

async function inBatches<T, R>(
  items: readonly T[],
  width: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = [];
  for (let i = 0; i < items.length; i += width) {
    results.push(...(await Promise.all(items.slice(i, i + width).map(fn))));
  }
  return results;
}

const work = await mkdtemp(join(tmpdir(), 'bench-vms-'));
const nats = await NatsServer.start(AbortSignal.timeout(10_000));
const nc = await nats.connect();
const bus = new AgentBus(nc);
const heartbeats = new HeartbeatWatch(nc);
const config = join(work, 'cpi.json');
await writeFile(config, JSON.stringify({ state_dir: join(work, 'state'), agent: { mbus: nats.url } }));
const cpi: CpiCommand = {
  command: join(repo, 'packages/cpi-local/bin/refit-cpi-local'),
  args: ['--config', config],
};
const live = new Map<string, string>(); // vm cid -> agent id
let stemcellCid = '';
let counter = 0;

async function createVm(): Promise<{ cid: string; agentId: string; ms: number }> {
  const n = ++counter;
  const agentId = `bench-agent-${n}`;
  const ip = `127.0.${2 + Math.floor(n / 250)}.${1 + (n % 250)}`;
  const since = performance.now();
  const [cid] = (await callCpi(cpi, 'create_vm', [
    agentId,
    stemcellCid,
    {},
    { default: { type: 'manual', ip, netmask: '255.255.255.0', cloud_properties: {} } },
    [],
    {},
  ])) as [string];
  live.set(cid, agentId);
  const beat = await heartbeats.next(agentId, since, 60_000);
  return { cid, agentId, ms: beat.at - since };
}

async function deleteVm(cid: string): Promise<number> {
  const since = performance.now();
  await callCpi(cpi, 'delete_vm', [cid]);
  live.delete(cid);
  return performance.now() - since;
}

// A benchmark stopped by a signal still deletes what it created: the loops see `stopping` and
// the `finally` below runs.
let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => {
    stopping = true;
    console.error(`${signal}: stopping after the current step, then cleaning up`);
  });
}

try {
  const buildStart = performance.now();
  await run(join(repo, 'packages/stemcell/bin/refit-stemcell'), [
    'build',
    '--name',
    'refit-bench',
    '--version',
    '1',
    '--os',
    'refit-minimal',
    '--out',
    join(work, 'v1'),
    '--base',
    'minimal',
  ]);
  const buildMs = performance.now() - buildStart;
  await mkdir(join(work, 'unpacked'));
  await run('tar', ['-xzf', join(work, 'v1/stemcell.tgz'), '-C', join(work, 'unpacked')]);
  const manifest = StemcellManifest.parse(parse(await readFile(join(work, 'unpacked/stemcell.MF'), 'utf8')));
  stemcellCid = (await callCpi(cpi, 'create_stemcell', [
    join(work, 'unpacked/image'),
    manifest.cloud_properties,
  ])) as string;

  // 1. Sequential lifecycle timings.
  const created: number[] = [];
  const rebooted: number[] = [];
  const deleted: number[] = [];
  for (let i = 0; i < runs && !stopping; i++) {
    const vm = await createVm();
    created.push(vm.ms);
    await bus.waitForPing(vm.agentId, 10_000);
    const since = performance.now();
    await callCpi(cpi, 'reboot_vm', [vm.cid]);
    rebooted.push((await heartbeats.next(vm.agentId, since, 60_000)).at - since);
    await bus.waitForPing(vm.agentId, 10_000);
    deleted.push(await deleteVm(vm.cid));
    console.error(
      `run ${i + 1}: create→heartbeat ${created.at(-1)?.toFixed(0)} ms, reboot→heartbeat ${rebooted.at(-1)?.toFixed(0)} ms, delete ${deleted.at(-1)?.toFixed(0)} ms`,
    );
  }

  // 2. Capacity: add VMs in steps until one agent misses a 1 s ping, or the bounds are reached.
  const ramp: {
    vms: number;
    allAnswered: boolean;
    slowestPingMs: number;
    memUsedMb: number;
    failedCreates: string[];
    createP50: number;
  }[] = [];
  const rampStart = performance.now();
  let held = 0;
  while (!stopping && live.size + step <= maxVms && performance.now() - rampStart < budgetMs) {
    const failedCreates: string[] = [];
    const added = (
      await inBatches(
        Array.from({ length: step }, (_, i) => i),
        parallel,
        () =>
          createVm().catch((error: unknown) => {
            failedCreates.push(error instanceof Error ? error.message : String(error));
            return undefined;
          }),
      )
    ).filter((a) => a !== undefined);
    await new Promise((r) => setTimeout(r, 2000)); // let the new agents settle
    const pings = await Promise.all(
      [...live.values()].map(async (agentId) => {
        const since = performance.now();
        try {
          await bus.send(agentId, 'ping', [], 1000);
          return performance.now() - since;
        } catch {
          return Infinity;
        }
      }),
    );
    const slowest = Math.max(...pings);
    const allAnswered = slowest <= 1000 && failedCreates.length === 0;
    ramp.push({
      failedCreates,
      vms: live.size,
      allAnswered,
      slowestPingMs: slowest,
      memUsedMb: await vmMemoryMb(join(work, 'state')),
      createP50: percentile(
        added.map((a) => a.ms),
        50,
      ),
    });
    const last = ramp.at(-1);
    console.error(
      `ramp: ${live.size} VMs, slowest ping ${slowest.toFixed(0)} ms, ${failedCreates.length} failed creates, ${last?.memUsedMb.toFixed(0)} MB PSS in VMs`,
    );
    if (!allAnswered) break;
    held = live.size;
  }
  const rampMs = performance.now() - rampStart;

  const fmt = (ms: number): string => (Number.isFinite(ms) ? `${ms.toFixed(0)} ms` : 'timeout');
  console.log(
    `\nhost: ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(1)} GiB; stemcell build ${fmt(buildMs)}`,
  );
  console.log(`\n| step (n=${runs}) | p50 | p95 |`);
  console.log('|---|---|---|');
  console.log(
    `| create_vm → first heartbeat | ${fmt(percentile(created, 50))} | ${fmt(percentile(created, 95))} |`,
  );
  console.log(
    `| reboot_vm → first heartbeat | ${fmt(percentile(rebooted, 50))} | ${fmt(percentile(rebooted, 95))} |`,
  );
  console.log(`| delete_vm | ${fmt(percentile(deleted, 50))} | ${fmt(percentile(deleted, 95))} |`);
  console.log(
    `\n| VMs | every agent pinged within 1 s | slowest ping | VMs' memory (PSS) | per VM | create→heartbeat p50 (step) | failed creates (step) |`,
  );
  console.log('|---|---|---|---|---|---|---|');
  for (const r of ramp) {
    console.log(
      `| ${r.vms} | ${r.allAnswered ? 'yes' : 'NO'} | ${fmt(r.slowestPingMs)} | ${r.memUsedMb.toFixed(0)} MB | ${(r.memUsedMb / r.vms).toFixed(1)} MB | ${fmt(r.createP50)} | ${r.failedCreates.length} |`,
    );
  }
  for (const failure of new Set(ramp.flatMap((r) => r.failedCreates)))
    console.log(`failed create: ${failure}`);
  const bound = live.size + step > maxVms ? `--max-vms ${maxVms}` : `--budget-s ${flags['budget-s']}`;
  const lastStep = ramp.at(-1);
  const stoppedBy =
    lastStep === undefined || lastStep.allAnswered
      ? `the bound (${bound})`
      : lastStep.failedCreates.length > 0
        ? 'a failed create_vm'
        : 'a ping slower than 1 s';
  console.log(
    `\nheld ${held} VMs with every agent answering ping within 1 s (ramp stopped by ${stoppedBy}, ${fmt(rampMs)})`,
  );
  console.log(
    `rerun: npx node bench/vms.ts --runs ${runs} --step ${step} --max-vms ${maxVms} --budget-s ${flags['budget-s']} --parallel ${parallel}`,
  );
} finally {
  const cleanupStart = performance.now();
  await inBatches([...live.keys()], parallel, (cid) => deleteVm(cid).catch(() => 0));
  if (stemcellCid) await callCpi(cpi, 'delete_stemcell', [stemcellCid]).catch(() => undefined);
  console.log(
    `cleanup: ${counter} VMs created in all, ${live.size} left, ${(performance.now() - cleanupStart).toFixed(0)} ms`,
  );
  bus.close();
  heartbeats.close();
  await nc.close();
  await nats.stop();
  await rm(work, { recursive: true, force: true });
}
