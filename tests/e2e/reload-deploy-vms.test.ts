// OS reload through the director with REAL refit-cpi-local VMs, the real agent and the
// director's own nats-server: 3 instances with persistent data on stemcell 1.1; the IaaS
// stemcell 1.2 uploaded without its generic stemcell → `?strategy=reload` refused before any
// job stops, naming what to upload; the rootfs uploaded → the dry run says reload and the bytes
// each VM downloads; `POST /deployments?strategy=reload` keeps every CID, `vms` shows 1.2, the
// agents report 1.2 from the booted root, data byte-identical, canary first, no create_vm nor
// delete_vm in the task's CPI log. Then 1.3 through the manifest's `update.stemcell_strategy:
// reload` alone (what the stock bosh CLI sends).
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
import {
  startDirector,
  type RunningDirector,
} from '@refit/director/stemcells/director-process.test-support.ts';
import { buildRelease } from '@refit/testkit/release/build-release.ts';
import { callCpi } from './vm-harness/cpi-process.ts';

const run = promisify(execFile);
const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const stemcellBin = join(repo, 'packages/stemcell/bin/refit-stemcell');
const raw = { 'content-type': 'application/x-compressed' };
const yaml = { 'content-type': 'text/yaml' };

const ctl = `#!/bin/sh
RUN=/var/vcap/sys/run/web
STORE=/var/vcap/store/web
case "$1" in
  start)
    mkdir -p "$RUN" "$STORE"
    [ -f "$STORE/data" ] || head -c 4096 /dev/urandom > "$STORE/data"
    /bin/sh -c 'while :; do sleep 1; done' refit-reload-web </dev/null >/dev/null 2>&1 &
    echo $! > "$RUN/web.pid"
    ;;
  stop)
    [ -f "$RUN/web.pid" ] && kill "$(cat "$RUN/web.pid")" 2>/dev/null
    rm -f "$RUN/web.pid"
    ;;
esac
`;

const release = () =>
  buildRelease({
    name: 'app',
    version: '1',
    jobs: [
      {
        name: 'web',
        monit: `check process web
  with pidfile /var/vcap/sys/run/web/web.pid
  start program "/var/vcap/jobs/web/bin/ctl start"
  stop program "/var/vcap/jobs/web/bin/ctl stop"
  group vcap
`,
        templates: { 'ctl.erb': ctl, 'drain.erb': '#!/bin/sh\necho 0\n' },
        destinations: { 'ctl.erb': 'bin/ctl', 'drain.erb': 'bin/drain' },
        packages: [],
        properties: {},
      },
    ],
    packages: [],
  });

const cloudConfig = {
  azs: [{ name: 'z1' }],
  vm_types: [{ name: 'default' }],
  networks: [
    {
      name: 'default',
      type: 'manual',
      subnets: [{ range: '127.0.52.0/24', gateway: '127.0.52.1', az: 'z1' }],
    },
  ],
  compilation: { workers: 1, az: 'z1', vm_type: 'default', network: 'default' },
};

function manifest(stemcell: string, update: Record<string, unknown> = {}) {
  return stringify({
    name: 'rdep',
    releases: [{ name: 'app', version: 'latest' }],
    stemcells: [{ alias: 'default', os: 'refit-minimal', version: stemcell }],
    update: {
      canaries: 1,
      max_in_flight: 2,
      canary_watch_time: '1000-10000',
      update_watch_time: '1000-10000',
      ...update,
    },
    instance_groups: [
      {
        name: 'web',
        azs: ['z1'],
        instances: 3,
        jobs: [{ name: 'web', release: 'app', properties: {} }],
        vm_type: 'default',
        stemcell: 'default',
        persistent_disk: 64,
        networks: [{ name: 'default' }],
      },
    ],
  });
}

interface Built {
  readonly stemcell: string;
  readonly rootfs: string;
}

async function build(work: string, version: string): Promise<Built> {
  const out = join(work, `sc-${version}`);
  const { stdout } = await run(
    stemcellBin,
    [
      'build',
      '--name',
      'refit-e2e',
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
  const d = JSON.parse(stdout) as { rootfs: { path: string } };
  return { stemcell: join(out, 'stemcell.tgz'), rootfs: d.rootfs.path };
}

interface VmLine {
  readonly vm_cid: string;
  readonly job_state: string;
  readonly stemcell: { version: string } | null;
  readonly booted_stemcell?: { version: string; root_digest?: string };
}

describe(
  'deploy --strategy reload with real refit-cpi-local VMs',
  { skip: process.getuid?.() !== 0 ? 'needs root' : false },
  () => {
    let work = '';
    let director: RunningDirector;
    let cpiState = '';
    const built = new Map<string, Built>();

    const upload = async (path: string, file: string) => {
      const reply = await director.request('POST', path, {
        body: await readFile(file),
        headers: raw,
        timeoutMs: 120_000,
      });
      const id = director.taskOf(reply);
      assert.equal((await director.waitTask(id, 120_000)).state, 'done', await director.output(id, 'event'));
    };
    const deploy = async (text: string, query = '') => {
      const id = director.taskOf(
        await director.request('POST', `/deployments${query}`, { body: text, headers: yaml }),
      );
      const task = await director.waitTask(id, 300_000);
      return {
        id,
        task,
        events: await director.output(id, 'event'),
        cpi: await director.output(id, 'cpi'),
        debug: await director.output(id, 'debug'),
      };
    };
    const vms = async () => {
      const id = director.taskOf(await director.request('GET', '/deployments/rdep/vms?format=full'));
      assert.equal((await director.waitTask(id, 60_000)).state, 'done');
      return (await director.output(id, 'result'))
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as VmLine);
    };
    const cids = async () => (await vms()).map((v) => v.vm_cid).sort();
    const hostVms = async () => (await readdir(join(cpiState, 'vms')).catch(() => [])).sort();
    const diskData = async () => {
      const out = new Map<string, string>();
      for (const disk of (await readdir(join(cpiState, 'disks')).catch(() => [])).sort()) {
        const data = await readFile(join(cpiState, 'disks', disk, 'data/web/data')).catch(() => null);
        if (data) out.set(disk, createHash('sha256').update(data).digest('hex'));
      }
      return out;
    };
    const events = (text: string) =>
      text
        .trim()
        .split('\n')
        .map(
          (l) =>
            JSON.parse(l) as { stage?: string; state?: string; task?: string; data?: { status?: string } },
        );
    const started = (text: string) =>
      events(text)
        .filter((e) => e.stage === 'Updating instance' && e.state === 'started')
        .map((e) => e.task ?? '');

    before(async () => {
      process.env.REFIT_DIRECTOR_TEST_TASKS = '1';
      work = await mkdtemp(join(tmpdir(), 'refit-reload-deploy-e2e-'));
      for (const v of ['1.1', '1.2', '1.3']) built.set(v, await build(work, v));
      const stateDir = join(work, 'director');
      cpiState = join(stateDir, 'cpi-local', 'state');
      const configFile = join(work, 'director.yml');
      await writeFile(configFile, stringify({ agent: { task_poll_interval_seconds: 0.1 } }));
      director = await startDirector({ stateDir, configFile });
      await upload('/stemcells', built.get('1.1')!.stemcell);
      const rel = await director.request('POST', '/releases', {
        body: (await release()).tarball,
        headers: raw,
      });
      assert.equal((await director.waitTask(director.taskOf(rel), 60_000)).state, 'done');
      const cc = await director.request('POST', '/cloud_configs?name=default', {
        body: stringify(cloudConfig),
        headers: yaml,
      });
      assert.equal(cc.status, 201);
      const first = await deploy(manifest('1.1'));
      assert.equal(first.task.state, 'done', first.events);
    });

    after(async () => {
      if (director) {
        const left = await director.request('GET', '/deployments/rdep').catch(() => null);
        if (left?.status === 200) {
          await director
            .waitTask(
              director.taskOf(await director.request('DELETE', '/deployments/rdep?force=true')),
              120_000,
            )
            .catch(() => undefined);
        }
        await director.stop();
        const cpi = {
          command: join(repo, 'packages/cpi-local/bin/refit-cpi-local'),
          args: ['--config', join(work, 'director/cpi-local/cpi.yml')],
        };
        for (const vm of await hostVms()) await callCpi(cpi, 'delete_vm', [vm]).catch(() => undefined);
      }
      await rm(work, { recursive: true, force: true });
    });

    it('refuses a reload whose generic stemcell is missing before any job stops, naming what to upload', async () => {
      await upload('/stemcells', built.get('1.2')!.stemcell);
      const before = await cids();
      const refused = await deploy(manifest('1.2'), '?strategy=reload');
      assert.equal(refused.task.state, 'error');
      assert.match(refused.events, /upload-rootfs refit-minimal\/1\.2/);
      assert.deepEqual(started(refused.events), [], 'no instance touched');
      assert.doesNotMatch(refused.events, /executing (pre-stop|drain)|stopping jobs/);
      assert.deepEqual(await cids(), before);
      assert.ok((await vms()).every((v) => v.job_state === 'running' && v.stemcell?.version === '1.1'));
    });

    it('dry run: reload rows with the bytes each VM downloads', async () => {
      await upload('/rootfs', built.get('1.2')!.rootfs);
      const size = (await readFile(built.get('1.2')!.rootfs)).length;
      const id = director.taskOf(
        await director.request('POST', '/deployments?dry_run=true&strategy=reload', {
          body: manifest('1.2'),
          headers: yaml,
        }),
      );
      assert.equal((await director.waitTask(id, 60_000)).state, 'done', await director.output(id, 'event'));
      const rows = (await director.output(id, 'result'))
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { strategy: string; download_bytes: number; reason: string });
      assert.equal(rows.length, 3);
      for (const row of rows) {
        assert.equal(row.strategy, 'reload', row.reason);
        assert.equal(row.download_bytes, size);
        assert.match(row.reason, /1\.1 → refit-e2e\/1\.2/);
      }
    });

    it('reloads every VM to 1.2 in place: same CIDs, data identical, canary first, no create_vm/delete_vm', async () => {
      const beforeCids = await cids();
      const data = await diskData();
      assert.equal(data.size, 3);
      const reload = await deploy(manifest('1.2'), '?strategy=reload');
      assert.equal(reload.task.state, 'done', reload.events);
      assert.deepEqual(await cids(), beforeCids);
      assert.deepEqual(await hostVms(), beforeCids);
      assert.deepEqual(await diskData(), data, 'persistent data byte-identical');
      const lines = await vms();
      for (const l of lines) {
        assert.equal(l.job_state, 'running');
        assert.equal(l.stemcell?.version, '1.2');
        assert.equal(l.booted_stemcell?.version, '1.2', 'the agent reports 1.2 from the booted root');
      }
      const order = started(reload.events);
      assert.equal(order.length, 3);
      assert.match(order[0] ?? '', /\(canary\)$/);
      assert.doesNotMatch(reload.cpi, /create_vm|delete_vm/);
      const statuses = events(reload.events).map((e) => e.data?.status ?? '');
      for (const s of [
        'staging rootfs 1.2',
        'executing drain',
        'rebooting',
        'waiting for agent',
        'mounting disk',
        'applying',
        'starting jobs',
      ]) {
        assert.ok(
          statuses.some((x) => x.startsWith(s)),
          `status ${s}`,
        );
      }
      assert.equal(
        (reload.debug.match(/downtime \d+ ms/g) ?? []).length,
        3,
        'downtime per instance in the debug log',
      );
      const again = await deploy(manifest('1.2'), '?strategy=reload');
      assert.equal(again.task.state, 'done');
      assert.deepEqual(started(again.events), [], 'the planner re-plans to nothing');
    });

    it('reloads to 1.3 through update.stemcell_strategy: reload in the manifest, no flag', async () => {
      await upload('/stemcells', built.get('1.3')!.stemcell);
      await upload('/rootfs', built.get('1.3')!.rootfs);
      const beforeCids = await cids();
      const data = await diskData();
      const reload = await deploy(manifest('1.3', { stemcell_strategy: 'reload' }));
      assert.equal(reload.task.state, 'done', reload.events);
      assert.deepEqual(await cids(), beforeCids);
      assert.deepEqual(await diskData(), data);
      assert.ok(
        (await vms()).every((l) => l.stemcell?.version === '1.3' && l.booted_stemcell?.version === '1.3'),
      );
      assert.doesNotMatch(reload.cpi, /create_vm|delete_vm/);
    });
  },
);
