// `recreate --strategy reload` of the SAME stemcell version with REAL refit-cpi-local VMs, the
// real agent and the director's own nats-server: 2 instances with persistent data on stemcell
// 1.1 (IaaS stemcell and generic stemcell 1.1 uploaded); a file dropped into each VM's root
// (drift, in the overlay's upper dir). `PUT /deployments/rrec/jobs/*?state=recreate&strategy=reload`
// (what `refit recreate --strategy reload` sends) keeps every CID, calls neither create_vm nor
// delete_vm, reboots each VM (boot count and boot id change), boots a freshly unpacked copy of
// the root (the boot state's committed root directory changes, the drift is gone), data
// byte-identical, jobs running. A second one stages yet another fresh directory.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
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
    /bin/sh -c 'while :; do sleep 1; done' refit-reload-recreate-web </dev/null >/dev/null 2>&1 &
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
        templates: { 'ctl.erb': ctl },
        destinations: { 'ctl.erb': 'bin/ctl' },
        packages: [],
        properties: {},
      },
    ],
    packages: [],
  });

const manifest = stringify({
  name: 'rrec',
  releases: [{ name: 'app', version: 'latest' }],
  stemcells: [{ alias: 'default', os: 'refit-minimal', version: '1.1' }],
  update: { canaries: 1, max_in_flight: 2, canary_watch_time: '500-10000', update_watch_time: '500-10000' },
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
  readonly job_state: string;
  readonly stemcell: { version: string } | null;
  readonly booted_stemcell?: { version: string; root_digest?: string; boot_id?: string };
}

interface HostView {
  readonly boots: number;
  /** The committed root (null: the IaaS stemcell's own root). */
  readonly root: string | null;
  readonly pending: unknown;
  readonly drift: boolean;
}

describe(
  'recreate --strategy reload of the same stemcell version with real refit-cpi-local VMs',
  { skip: process.getuid?.() !== 0 ? 'needs root' : false },
  () => {
    let work = '';
    let director: RunningDirector;
    let cpiState = '';

    const upload = async (path: string, file: string) => {
      const reply = await director.request('POST', path, {
        body: await readFile(file),
        headers: raw,
        timeoutMs: 120_000,
      });
      const id = director.taskOf(reply);
      assert.equal((await director.waitTask(id, 120_000)).state, 'done', await director.output(id, 'event'));
    };
    const finished = async (reply: Awaited<ReturnType<RunningDirector['request']>>) => {
      const id = director.taskOf(reply);
      const task = await director.waitTask(id, 300_000);
      return {
        task,
        events: await director.output(id, 'event'),
        cpi: await director.output(id, 'cpi'),
      };
    };
    const vms = async () => {
      const id = director.taskOf(await director.request('GET', '/deployments/rrec/vms?format=full'));
      assert.equal((await director.waitTask(id, 60_000)).state, 'done');
      return (await director.output(id, 'result'))
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as VmLine)
        .sort((a, b) => a.vm_cid.localeCompare(b.vm_cid));
    };
    const host = async (cid: string): Promise<HostView> => {
      const dir = join(cpiState, 'vms', cid);
      const status = JSON.parse(await readFile(join(dir, 'status.json'), 'utf8')) as { boots: number };
      const state = await readFile(join(dir, 'ephemeral/sys/boot/state.json'), 'utf8')
        .then((t) => JSON.parse(t) as { current: { root: string | null }; pending: unknown })
        .catch(() => null);
      const drift = await readFile(join(dir, 'upper/etc/refit-drift'), 'utf8').then(
        () => true,
        () => false,
      );
      return {
        boots: status.boots,
        root: state?.current.root ?? null,
        pending: state?.pending ?? null,
        drift,
      };
    };
    const diskData = async () => {
      const out = new Map<string, string>();
      for (const disk of (await readdir(join(cpiState, 'disks')).catch(() => [])).sort()) {
        const data = await readFile(join(cpiState, 'disks', disk, 'data/web/data')).catch(() => null);
        if (data) out.set(disk, createHash('sha256').update(data).digest('hex'));
      }
      return out;
    };
    const recreateReload = async () =>
      finished(
        await director.request('PUT', '/deployments/rrec/jobs/*?state=recreate&strategy=reload', {
          body: '',
          headers: yaml,
        }),
      );
    /** The agents commit the new root once their jobs run: wait for that (bounded). */
    const committed = async (cid: string) => {
      const deadline = Date.now() + 30_000;
      for (;;) {
        const view = await host(cid);
        if (view.pending === null) return view;
        if (Date.now() > deadline) throw new Error(`${cid}: the restaged root was not committed`);
        await new Promise((r) => setTimeout(r, 200));
      }
    };

    before(async () => {
      process.env.REFIT_DIRECTOR_TEST_TASKS = '1';
      work = await mkdtemp(join(tmpdir(), 'refit-reload-recreate-e2e-'));
      const out = join(work, 'sc-1.1');
      const { stdout } = await run(
        stemcellBin,
        [
          'build',
          '--name',
          'refit-e2e',
          '--version',
          '1.1',
          '--os',
          'refit-minimal',
          '--out',
          out,
          '--base',
          'minimal',
        ],
        { maxBuffer: 1 << 22 },
      );
      const rootfs = (JSON.parse(stdout) as { rootfs: { path: string } }).rootfs.path;
      const stateDir = join(work, 'director');
      cpiState = join(stateDir, 'cpi-local', 'state');
      director = await startDirector({ stateDir });
      await upload('/stemcells', join(out, 'stemcell.tgz'));
      await upload('/rootfs', rootfs);
      const rel = await director.request('POST', '/releases', {
        body: (await release()).tarball,
        headers: raw,
      });
      assert.equal((await director.waitTask(director.taskOf(rel), 60_000)).state, 'done');
      const cc = await director.request('POST', '/cloud_configs?name=default', {
        headers: yaml,
        body: stringify({
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
        }),
      });
      assert.equal(cc.status, 201);
      const first = await finished(
        await director.request('POST', '/deployments', { body: manifest, headers: yaml }),
      );
      assert.equal(first.task.state, 'done', first.events);
    });

    after(async () => {
      if (director) {
        const left = await director.request('GET', '/deployments/rrec').catch(() => null);
        if (left?.status === 200) {
          await director
            .waitTask(
              director.taskOf(await director.request('DELETE', '/deployments/rrec?force=true')),
              120_000,
            )
            .catch(() => undefined);
        }
        await director.stop();
        const cpi = {
          command: join(repo, 'packages/cpi-local/bin/refit-cpi-local'),
          args: ['--config', join(work, 'director/cpi-local/cpi.yml')],
        };
        for (const vm of await readdir(join(cpiState, 'vms')).catch(() => [] as string[]))
          await callCpi(cpi, 'delete_vm', [vm]).catch(() => undefined);
      }
      await rm(work, { recursive: true, force: true });
    });

    it('restages and reboots every VM in place, repairing its root; twice', async () => {
      const before = await vms();
      assert.equal(before.length, 2);
      const cids = before.map((v) => v.vm_cid);
      const data = await diskData();
      assert.equal(data.size, 2);
      let views = new Map<string, HostView>();
      for (const cid of cids) {
        // Drift: a file the stemcell does not have, in the VM's root (its overlay's upper dir).
        await mkdir(join(cpiState, 'vms', cid, 'upper/etc'), { recursive: true });
        await writeFile(join(cpiState, 'vms', cid, 'upper/etc/refit-drift'), 'drifted\n');
        views.set(cid, await host(cid));
        assert.equal(views.get(cid)?.drift, true);
      }
      let bootIds = new Map(before.map((v) => [v.vm_cid, v.booted_stemcell?.boot_id]));

      for (const round of [1, 2]) {
        const done = await recreateReload();
        assert.equal(done.task.state, 'done', done.events);
        assert.doesNotMatch(done.cpi, /create_vm|delete_vm/, `round ${round}: nothing at the IaaS`);
        assert.match(done.events, /restaging in full/);
        assert.match(done.events, /rebooting/);
        const after = await vms();
        assert.deepEqual(
          after.map((v) => v.vm_cid),
          cids,
          'every VM keeps its CID',
        );
        assert.deepEqual(await diskData(), data, 'persistent data byte-identical');
        for (const v of after) {
          assert.equal(v.job_state, 'running');
          assert.equal(v.stemcell?.version, '1.1');
          assert.equal(v.booted_stemcell?.version, '1.1');
          assert.ok(v.booted_stemcell?.boot_id, 'the agent reports its boot');
          assert.notEqual(v.booted_stemcell?.boot_id, bootIds.get(v.vm_cid), `${v.vm_cid}: a new boot`);
          const view = await committed(v.vm_cid);
          const previous = views.get(v.vm_cid)!;
          assert.ok(view.boots > previous.boots, `${v.vm_cid}: boot count ${previous.boots} → ${view.boots}`);
          assert.ok(view.root !== null, 'boots a staged root');
          assert.notEqual(view.root, previous.root, `${v.vm_cid}: a freshly staged root directory`);
          assert.match(view.root, new RegExp(`/roots/${v.booted_stemcell?.root_digest ?? 'x'}\\.${round}$`));
          assert.equal(view.drift, false, 'the drift is gone');
        }
        views = new Map(await Promise.all(cids.map(async (cid) => [cid, await host(cid)] as const)));
        bootIds = new Map(after.map((v) => [v.vm_cid, v.booted_stemcell?.boot_id]));
      }
    });
  },
);
