// Measures refit-cpi-local on this machine: create_vm → the VM's init marker, reboot_vm →
// marker, a reboot from inside → marker, delete_vm, and the supervisor's memory. Prints a table;
// never asserts. Run: npx node packages/cpi-local/src/bench/vm-timings.ts [iterations]
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CpiProcess } from '@refit/testkit/cpi-conformance/index.ts';
import { buildBusyboxStemcellImage } from '../testing/busybox-stemcell.ts';
import { removeScratch } from '../testing/cleanup.ts';

const iterations = Number(process.argv[2] ?? 10);
const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');
const scratch = await mkdtemp(join(tmpdir(), 'cpi-local-bench-'));
const stateDir = join(scratch, 'state');

async function untilBoot(vm: string, n: number): Promise<void> {
  const file = join(stateDir, 'vms', vm, 'ephemeral/boot-count');
  const deadline = Date.now() + 30_000;
  while (Number((await readFile(file, 'utf8').catch(() => '0')).trim()) < n) {
    if (Date.now() > deadline) throw new Error(`boot ${n} of ${vm} not within 30 s`);
    await new Promise((r) => setTimeout(r, 1));
  }
}

/** Time spent inside the CPI process (its log's "done in N ms"), excluding Node's start-up. */
async function timed(
  cpi: CpiProcess,
  method: string,
  args: unknown[],
): Promise<{ wall: number; inside: number; result: unknown }> {
  const started = performance.now();
  const response = await cpi.request(method, args);
  if (response.error) throw new Error(`${method}: ${response.error.message}`);
  const inside = Number(/done in (\d+) ms/.exec(response.log)?.[1] ?? NaN);
  return { wall: performance.now() - started, inside, result: response.result };
}

async function privateKb(vm: string, field: 'Private_Dirty' | 'Rss'): Promise<number> {
  const status = JSON.parse(await readFile(join(stateDir, 'vms', vm, 'status.json'), 'utf8')) as {
    supervisor: { pid: number };
  };
  const rollup = await readFile(`/proc/${status.supervisor.pid}/smaps_rollup`, 'utf8');
  return Number(new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(rollup)?.[1] ?? NaN);
}

const rows: Record<string, number[]> = {};
const add = (name: string, ms: number) => (rows[name] ??= []).push(ms);

try {
  const configPath = join(scratch, 'cpi.json');
  await writeFile(
    configPath,
    JSON.stringify({ state_dir: stateDir, agent: { mbus: 'nats://127.0.0.1:4222' } }),
  );
  const cpi = new CpiProcess({
    command: join(repo, 'packages/cpi-local/bin/refit-cpi-local'),
    args: ['--config', configPath],
  });
  const stemcell = (await timed(cpi, 'create_stemcell', [await buildBusyboxStemcellImage(scratch), {}]))
    .result;
  add('info (CPI process start-up + answer)', (await timed(cpi, 'info', [])).wall);
  for (let i = 0; i < iterations; i++) {
    const networks = { default: { type: 'manual', ip: `127.0.3.${i + 1}`, cloud_properties: {} } };
    let t = performance.now();
    const created = await timed(cpi, 'create_vm', [`agent-${i}`, stemcell, {}, networks, [], {}]);
    const vm = (created.result as [string])[0];
    await untilBoot(vm, 1);
    add('create_vm → init marker', performance.now() - t);
    add('  create_vm inside the CPI process', created.inside);
    add('supervisor Private_Dirty (KiB)', await privateKb(vm, 'Private_Dirty'));
    add('supervisor RSS (KiB)', await privateKb(vm, 'Rss'));

    t = performance.now();
    const rebooted = await timed(cpi, 'reboot_vm', [vm]);
    await untilBoot(vm, 2);
    add('reboot_vm → init marker', performance.now() - t);
    add('  reboot_vm inside the CPI process', rebooted.inside);

    t = performance.now();
    await writeFile(join(stateDir, 'vms', vm, 'ephemeral/reboot-request'), '');
    await untilBoot(vm, 3);
    add('reboot(2) inside → marker (init polls every 50 ms)', performance.now() - t);

    const deleted = await timed(cpi, 'delete_vm', [vm]);
    add('delete_vm', deleted.wall);
    add('  delete_vm inside the CPI process', deleted.inside);
  }
} finally {
  await removeScratch(scratch);
}

const print = (line: string) => process.stdout.write(`${line}\n`);
const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))] ?? NaN;
print(`refit-cpi-local, ${iterations} VMs one after another (ms unless noted)\n`);
print(`${'measure'.padEnd(52)} ${'min'.padStart(8)} ${'p50'.padStart(8)} ${'p95'.padStart(8)}`);
for (const [name, xs] of Object.entries(rows)) {
  const f = (v: number) => v.toFixed(0).padStart(8);
  print(`${name.padEnd(52)} ${f(Math.min(...xs))} ${f(pct(xs, 0.5))} ${f(pct(xs, 0.95))}`);
}
