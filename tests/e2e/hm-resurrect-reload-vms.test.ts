// Resurrection after an OS reload, with real refit-cpi-local VMs, the real agent, the director's
// own nats-server and refit-hm: two instances with persistent data deployed on stemcell 1, then
// reloaded in place to stemcell 2 (`POST /deployments?strategy=reload`). One VM is then lost at
// the IaaS (its supervisor and every process SIGKILLed; the CPI's records stay, so only has_vm
// tells). refit-hm alerts the silent agent and asks scan_and_fix; the director (configured with
// `scan_and_fix.auto_fix_stateful_nodes`, as is the monitor) recreates the instance from the IaaS
// stemcell 2 — the version it runs now, not the 1 it was first deployed on — re-attaches its disk
// with the same bytes, and the new VM's agent reports 2 from the root it booted.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import type { HmAlert } from '@refit/protocol';
import {
  startDirector,
  type RunningDirector,
} from '@refit/director/stemcells/director-process.test-support.ts';
import { buildRelease } from '@refit/testkit/release/build-release.ts';
import { HmProcess } from '../../packages/hm/src/testing/hm-process.ts';
import { callCpi } from './vm-harness/cpi-process.ts';

const run = promisify(execFile);
const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const stemcellBin = join(repo, 'packages/stemcell/bin/refit-stemcell');
const raw = { 'content-type': 'application/x-compressed' };
const yaml = { 'content-type': 'text/yaml' };
const STEMCELL = 'refit-hm-reload-e2e';

const ctl = `#!/bin/sh
RUN=/var/vcap/sys/run/web
STORE=/var/vcap/store/web
case "$1" in
  start)
    mkdir -p "$RUN" "$STORE"
    [ -f "$STORE/data" ] || head -c 4096 /dev/urandom > "$STORE/data"
    /bin/sh -c 'while :; do sleep 1; done' refit-hm-reload-web </dev/null >/dev/null 2>&1 &
    echo $! > "$RUN/web.pid"
    ;;
  stop)
    [ -f "$RUN/web.pid" ] && kill "$(cat "$RUN/web.pid")" 2>/dev/null
    rm -f "$RUN/web.pid"
    ;;
esac
`;

const cloudConfig = {
  azs: [{ name: 'z1' }],
  vm_types: [{ name: 'default' }],
  networks: [
    {
      name: 'default',
      type: 'manual',
      subnets: [{ range: '127.0.74.0/24', gateway: '127.0.74.1', az: 'z1' }],
    },
  ],
  compilation: { workers: 1, az: 'z1', vm_type: 'default', network: 'default' },
};

const manifest = (stemcell: string) =>
  stringify({
    name: 'hmrdep',
    releases: [{ name: 'app', version: 'latest' }],
    stemcells: [{ alias: 'default', os: 'refit-minimal', version: stemcell }],
    update: {
      canaries: 1,
      max_in_flight: 2,
      canary_watch_time: '1000-30000',
      update_watch_time: '1000-30000',
    },
    instance_groups: [
      {
        name: 'web',
        azs: ['z1'],
        instances: 2,
        jobs: [{ name: 'web', release: 'app', properties: {} }],
        vm_type: 'default',
        stemcell: 'default',
        persistent_disk: 64,
        networks: [{ name: 'default' }],
      },
    ],
  });

interface VmLine {
  readonly vm_cid: string;
  readonly id: string;
  readonly job_state: string;
  readonly stemcell: { version: string } | null;
  readonly booted_stemcell?: { version: string };
}

async function buildStemcell(work: string, version: string): Promise<{ stemcell: string; rootfs: string }> {
  const out = join(work, `sc-${version}`);
  const { stdout } = await run(
    stemcellBin,
    [
      'build',
      '--name',
      STEMCELL,
      '--version',
      version,
      '--os',
      'refit-minimal',
      '--out',
      out,
      '--base',
      'minimal',
    ],
    { maxBuffer: 1 << 22 },
  );
  const built = JSON.parse(stdout) as { rootfs: { path: string } };
  return { stemcell: join(out, 'stemcell.tgz'), rootfs: built.rootfs.path };
}

describe(
  'refit-hm resurrects a lost VM after a reload: on the stemcell it runs now',
  { timeout: 1_800_000, skip: process.getuid?.() !== 0 ? 'needs root (namespace VMs)' : false },
  () => {
    let work = '';
    let director: RunningDirector | undefined;
    let hm: HmProcess | undefined;
    const cpiState = () => join(work, 'director/cpi-local/state');
    const cpi = () => ({
      command: join(repo, 'packages/cpi-local/bin/refit-cpi-local'),
      args: ['--config', join(work, 'director/cpi-local/cpi.yml')],
    });

    const task = async (reply: Awaited<ReturnType<RunningDirector['request']>>, timeoutMs: number) => {
      const id = director!.taskOf(reply);
      const ended = await director!.waitTask(id, timeoutMs);
      assert.equal(ended.state, 'done', await director!.output(id, 'event'));
      return id;
    };
    const upload = async (path: string, file: string) =>
      task(
        await director!.request('POST', path, {
          body: await readFile(file),
          headers: raw,
          timeoutMs: 120_000,
        }),
        300_000,
      );
    const deploy = async (text: string, query = '') =>
      task(await director!.request('POST', `/deployments${query}`, { body: text, headers: yaml }), 900_000);
    const vms = async (): Promise<VmLine[]> => {
      const id = await task(
        await director!.request('GET', '/deployments/hmrdep/instances?format=full'),
        120_000,
      );
      return (await director!.output(id, 'result'))
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as VmLine);
    };
    const checksum = async (diskCid: string) =>
      createHash('sha256')
        .update(await readFile(join(cpiState(), 'disks', diskCid, 'data/web/data')))
        .digest('hex');

    before(async () => {
      work = await mkdtemp(join(tmpdir(), 'refit-hm-reload-'));
      const v1 = await buildStemcell(work, '1');
      const v2 = await buildStemcell(work, '2');
      const configFile = join(work, 'director.yml');
      await writeFile(
        configFile,
        stringify({
          agent: { task_poll_interval_seconds: 0.2 },
          scan_and_fix: { auto_fix_stateful_nodes: true },
        }),
      );
      director = await startDirector({
        stateDir: join(work, 'director'),
        configFile,
        readyTimeoutMs: 60_000,
      });
      await upload('/stemcells', v1.stemcell);
      const built = await buildRelease({
        name: 'app',
        version: '1',
        jobs: [
          {
            name: 'web',
            monit:
              'check process web\n  with pidfile /var/vcap/sys/run/web/web.pid\n' +
              '  start program "/var/vcap/jobs/web/bin/ctl start"\n' +
              '  stop program "/var/vcap/jobs/web/bin/ctl stop"\n  group vcap\n',
            templates: { 'ctl.erb': ctl },
            destinations: { 'ctl.erb': 'bin/ctl' },
          },
        ],
      });
      await task(await director.request('POST', '/releases', { body: built.tarball, headers: raw }), 300_000);
      const cc = await director.request('POST', '/cloud_configs?name=default', {
        body: stringify(cloudConfig),
        headers: yaml,
      });
      assert.equal(cc.status, 201);
      await deploy(manifest('1'));
      await upload('/stemcells', v2.stemcell);
      await upload('/rootfs', v2.rootfs);
    });

    after(async () => {
      await hm?.stop();
      if (director) {
        const left = await director.request('GET', '/deployments/hmrdep').catch(() => null);
        if (left?.status === 200) {
          const id = director.taskOf(await director.request('DELETE', '/deployments/hmrdep?force=true'));
          await director.waitTask(id, 300_000).catch(() => undefined);
        }
        await director.stop();
        const left2 = await readdir(join(cpiState(), 'vms')).catch(() => [] as string[]);
        for (const vm of left2) await callCpi(cpi(), 'delete_vm', [vm]).catch(() => undefined);
      }
      await rm(work, { recursive: true, force: true });
    });

    it('reloads to 2 in place, then a lost VM comes back on 2 with its persistent data', async () => {
      const onV1 = await vms();
      assert.equal(onV1.length, 2);
      assert.ok(onV1.every((l) => l.stemcell?.version === '1'));
      await deploy(manifest('2'), '?strategy=reload');
      const onV2 = await vms();
      assert.deepEqual(
        onV2.map((l) => l.vm_cid).sort(),
        onV1.map((l) => l.vm_cid).sort(),
        'reloaded in place',
      );
      for (const l of onV2) {
        assert.equal(l.job_state, 'running');
        assert.equal(l.stemcell?.version, '2');
        assert.equal(l.booted_stemcell?.version, '2');
      }

      const config = join(work, 'hm.yml');
      // Agents heartbeat every 30 s: the timeout must be longer than that.
      await writeFile(
        config,
        'intervals: {poll_director: 1, analyze_agents: 2, poll_grace_period: 1, agent_timeout: 40}\n' +
          'resurrector: {auto_fix_stateful_nodes: true}\n',
      );
      hm = HmProcess.spawn([
        '--config',
        config,
        '--director-state-dir',
        join(work, 'director'),
        '--director-url',
        `https://127.0.0.1:${director!.port}`,
        '--resurrector',
        'on',
      ]);
      await hm.waitFor('ready', (l) => l.msg === 'hm ready', 60_000);

      const [victim] = [...onV2].sort((a, b) => a.id.localeCompare(b.id));
      assert.ok(victim);
      const [disk] = (await callCpi(cpi(), 'get_disks', [victim.vm_cid])) as string[];
      assert.ok(disk);
      const data = await checksum(disk);
      // Lost at the IaaS: the supervisor and every process of the VM, its records left behind.
      const status = JSON.parse(
        await readFile(join(cpiState(), 'vms', victim.vm_cid, 'status.json'), 'utf8'),
      ) as { supervisor: { pid: number }; unshare: { pid: number } | null; init: { pid: number } | null };
      for (const id of [status.supervisor, status.init, status.unshare]) {
        if (id) process.kill(id.pid, 'SIGKILL');
      }

      const timedOut = await hm.waitFor(
        'the timeout alert',
        (l) => l.msg === 'alert' && /has timed out$/.test((l.alert as HmAlert).title),
        240_000,
      );
      assert.equal((timedOut.alert as HmAlert).instance_id, victim.id);
      const queued = await hm.waitFor(
        'scan_and_fix queued',
        (l) => l.msg === '(Resurrector) scan_and_fix queued',
        60_000,
      );
      const taskId = Number(queued.task_id);
      const fixed = await director!.waitTask(taskId, 900_000);
      assert.equal(fixed.state, 'done', await director!.output(taskId, 'event'));
      assert.equal(fixed.result, 'scan and fix complete');
      assert.ok(!hm.alerts().some((a) => a.title === 'Skipping stateful instances'));

      // Created from the IaaS stemcell 2 (its CID), not 1.
      const stemcells = JSON.parse((await director!.request('GET', '/stemcells')).text) as Array<{
        version: string;
        cid: string;
      }>;
      const cidOf = (version: string) => stemcells.find((s) => s.version === version)?.cid ?? '?';
      const cpiLog = await director!.output(taskId, 'cpi');
      assert.match(cpiLog, /create_vm/);
      assert.ok(cpiLog.includes(cidOf('2')), cpiLog);
      assert.ok(!cpiLog.includes(cidOf('1')), 'not the stemcell first deployed');

      const back = (await vms()).find((l) => l.id === victim.id);
      assert.ok(back);
      assert.notEqual(back.vm_cid, victim.vm_cid, 'a new VM');
      assert.equal(back.job_state, 'running');
      assert.equal(back.stemcell?.version, '2');
      assert.equal(back.booted_stemcell?.version, '2', 'the new agent reports 2 from the root it booted');
      assert.deepEqual(await callCpi(cpi(), 'get_disks', [back.vm_cid]), [disk], 'its disk re-attached');
      assert.equal(await checksum(disk), data, 'same persistent data');
      assert.deepEqual(await hm.stop(), { code: 0, signal: null });
    });
  },
);
