// OS reload failures through the director with REAL refit-cpi-local VMs: a rootfs whose bytes
// no longer match its digest is refused by the agents before any job stops; a v2 root whose agent
// never starts makes the VM fall back to v1 by itself (boot step, short commit deadline set in the
// generated cpi-local config) and the director fails the canary, stopping the rollout; with
// `update.reload_fallback: recreate` the same instance is recreated from the IaaS stemcell v2.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { parse, stringify } from 'yaml';
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
      subnets: [{ range: '127.0.54.0/24', gateway: '127.0.54.1', az: 'z1' }],
    },
  ],
  compilation: { workers: 1, az: 'z1', vm_type: 'default', network: 'default' },
};

function manifest(stemcell: string, update: Record<string, unknown> = {}) {
  return stringify({
    name: 'fdep',
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
        instances: 2,
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

async function build(work: string, dir: string, version: string, extra: string[] = []): Promise<Built> {
  const out = join(work, dir);
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
      ...extra,
    ],
    { maxBuffer: 1 << 22 },
  );
  const d = JSON.parse(stdout) as { rootfs: { path: string } };
  return { stemcell: join(out, 'stemcell.tgz'), rootfs: d.rootfs.path };
}

interface VmLine {
  readonly id: string;
  readonly vm_cid: string;
  readonly job_state: string;
  readonly stemcell: { version: string } | null;
  readonly booted_stemcell?: { version: string };
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe(
  'deploy --strategy reload failures with real refit-cpi-local VMs',
  { skip: process.getuid?.() !== 0 ? 'needs root' : false },
  () => {
    let work = '';
    let director: RunningDirector;
    let stateDir = '';
    let cpiState = '';
    let v11: Built;
    let v12: Built;
    let broken: Built;

    const upload = async (path: string, file: string) => {
      const id = director.taskOf(
        await director.request('POST', path, {
          body: await readFile(file),
          headers: raw,
          timeoutMs: 120_000,
        }),
      );
      assert.equal((await director.waitTask(id, 120_000)).state, 'done', await director.output(id, 'event'));
    };
    const deploy = async (text: string, query = '') => {
      const id = director.taskOf(
        await director.request('POST', `/deployments${query}`, { body: text, headers: yaml }),
      );
      const task = await director.waitTask(id, 300_000);
      return { id, task, events: await director.output(id, 'event'), cpi: await director.output(id, 'cpi') };
    };
    const vms = async () => {
      const id = director.taskOf(await director.request('GET', '/deployments/fdep/vms?format=full'));
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
        if (data) out.set(disk, sha256(data));
      }
      return out;
    };
    const started = (text: string) =>
      text
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { stage?: string; state?: string; task?: string })
        .filter((e) => e.stage === 'Updating instance' && e.state === 'started')
        .map((e) => e.task ?? '');
    /** The director's blob file holding `content`. */
    const blobFile = async (content: Buffer): Promise<string> => {
      const want = sha256(content);
      const walk = async (dir: string): Promise<string | undefined> => {
        for (const entry of await readdir(dir, { withFileTypes: true })) {
          const path = join(dir, entry.name);
          if (entry.isDirectory()) {
            const found = await walk(path);
            if (found) return found;
          } else if (entry.isFile() && (await stat(path)).size === content.length) {
            if (sha256(await readFile(path)) === want) return path;
          }
        }
        return undefined;
      };
      const found = await walk(join(stateDir, 'blobstore'));
      assert.ok(found, 'the rootfs blob is in the director blobstore');
      return found;
    };

    before(async () => {
      process.env.REFIT_DIRECTOR_TEST_TASKS = '1';
      work = await mkdtemp(join(tmpdir(), 'refit-reload-failures-e2e-'));
      const brokenAgent = join(work, 'broken-agent.mjs');
      await writeFile(brokenAgent, "console.error('this agent never starts'); process.exit(3);\n");
      v11 = await build(work, 'sc-1.1', '1.1');
      v12 = await build(work, 'sc-1.2', '1.2');
      broken = await build(work, 'sc-1.2-broken', '1.2', ['--agent-entry', brokenAgent]);
      stateDir = join(work, 'director');
      cpiState = join(stateDir, 'cpi-local', 'state');
      const configFile = join(work, 'director.yml');
      await writeFile(configFile, stringify({ agent: { task_poll_interval_seconds: 0.1 } }));
      director = await startDirector({ stateDir, configFile });
      // A staged root not committed within 4 s of its first boot is abandoned (the generated
      // config is rewritten only when the director starts).
      const cpiYml = join(stateDir, 'cpi-local', 'cpi.yml');
      const doc = (parse(await readFile(cpiYml, 'utf8')) ?? {}) as Record<string, unknown>;
      await writeFile(
        cpiYml,
        stringify({ ...doc, reload: { max_boot_attempts: 1, commit_deadline_ms: 4000 } }),
        {
          mode: 0o600,
        },
      );
      await upload('/stemcells', v11.stemcell);
      await upload('/stemcells', v12.stemcell);
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
        const left = await director.request('GET', '/deployments/fdep').catch(() => null);
        if (left?.status === 200) {
          await director
            .waitTask(
              director.taskOf(await director.request('DELETE', '/deployments/fdep?force=true')),
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

    it('a rootfs whose bytes do not match its digest fails the canary before any job stops', async () => {
      await upload('/rootfs', broken.rootfs);
      const content = await readFile(broken.rootfs);
      const file = await blobFile(content);
      const bad = Buffer.from(content);
      bad[Math.floor(bad.length / 2)] = (bad[Math.floor(bad.length / 2)] ?? 0) ^ 0xff;
      await writeFile(file, bad);
      try {
        const before = await cids();
        const data = await diskData();
        const refused = await deploy(manifest('1.2'), '?strategy=reload');
        assert.equal(refused.task.state, 'error');
        assert.match(refused.events, /failed while staging rootfs/);
        assert.doesNotMatch(refused.events, /executing (pre-stop|drain)|stopping jobs|rebooting/);
        assert.equal(started(refused.events).length, 1, 'only the canary was touched');
        assert.deepEqual(await cids(), before);
        assert.deepEqual(await diskData(), data);
        assert.ok(
          (await vms()).every((v) => v.job_state === 'running' && v.booted_stemcell?.version === '1.1'),
        );
        assert.doesNotMatch(refused.cpi, /create_vm|delete_vm/);
      } finally {
        await writeFile(file, content);
      }
    });

    it('a v2 root whose agent never starts: the VM falls back to v1 by itself, the canary fails', async () => {
      const before = await cids();
      const data = await diskData();
      const failed = await deploy(manifest('1.2'), '?strategy=reload');
      assert.equal(failed.task.state, 'error');
      assert.match(failed.events, /failed while waiting for agent: .*(came back on|reports) stemcell 1\.1/);
      assert.equal(started(failed.events).length, 1, 'the rollout stopped at the canary');
      assert.deepEqual(await cids(), before, 'same VMs');
      assert.deepEqual(await diskData(), data, 'data intact');
      assert.ok(
        (await vms()).every((v) => v.booted_stemcell?.version === '1.1' && v.stemcell?.version === '1.1'),
      );
      assert.doesNotMatch(failed.cpi, /create_vm|delete_vm/);
    });

    it('with reload_fallback: recreate the failed instances are recreated from the IaaS stemcell 1.2', async () => {
      const before = await cids();
      const data = await diskData();
      const done = await deploy(manifest('1.2', { reload_fallback: 'recreate' }), '?strategy=reload');
      assert.equal(done.task.state, 'done', done.events);
      assert.match(done.events, /reload_fallback: recreate: recreating web\//);
      const after = await cids();
      for (const cid of before) assert.ok(!after.includes(cid), `${cid} was recreated`);
      assert.deepEqual(after, await hostVms());
      assert.deepEqual([...(await diskData()).values()].sort(), [...data.values()].sort(), 'data intact');
      assert.ok(
        (await vms()).every(
          (v) =>
            v.job_state === 'running' &&
            v.stemcell?.version === '1.2' &&
            v.booted_stemcell?.version === '1.2',
        ),
      );
      assert.match(done.cpi, /create_vm/);
    });
  },
);
