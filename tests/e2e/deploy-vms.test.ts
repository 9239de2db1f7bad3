// Deploys with REAL refit-cpi-local VMs, the real agent and the director's own nats-server (its
// defaults): a release built by the testkit (a job with a monit file, ERB templates using p,
// if_p and spec, a drain script, a package compiled on a compilation VM), 3 instances in 2 AZs
// with persistent disks. Deploy; change a property (in place, same CIDs); bump the stemcell
// (every VM recreated, canary first, persistent data intact); a job failing on the canary stops
// the rollout; a fixed deploy converges; restart / stop --hard / start / recreate; bad input
// refused before any VM is touched; delete-deployment orphans the disks and, once they are
// deleted (`DELETE /disks/<cid>`), leaves nothing behind.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse, stringify } from 'yaml';
import { processesMentioning } from '@refit/cpi-local/testing/host-traces.ts';
import type { RunningDirector } from '@refit/director/stemcells/director-process.test-support.ts';
import { buildRelease } from '@refit/testkit/release/build-release.ts';
import { buildStemcell, skipUnlessRoot, stagesOf, startedTasks, VmLab } from './support/vm-lab.ts';

const yaml = { 'content-type': 'text/yaml' };

interface InstanceRow {
  readonly id: string;
  readonly job: string;
  readonly index: number;
  readonly az: string | null;
  readonly cid: string | null;
  readonly agent_id: string | null;
  readonly ips: string[];
}

const ctl = `#!/bin/sh
RUN=/var/vcap/sys/run/web
LOG=/var/vcap/sys/log/web
STORE=/var/vcap/store/web
case "$1" in
  start)
    mkdir -p "$RUN" "$LOG" "$STORE"
<% if p("fail") %>
    echo "configured to fail" >> "$LOG/ctl.log"
    exit 1
<% end %>
    [ -f "$STORE/data" ] || head -c 4096 /dev/urandom > "$STORE/data"
    /bin/sh -c 'while :; do sleep 1; done' refit-deploy-web-<%= spec.id %> </dev/null >>"$LOG/web.out" 2>&1 &
    echo $! > "$RUN/web.pid"
    ;;
  stop)
    [ -f "$RUN/web.pid" ] && kill "$(cat "$RUN/web.pid")" 2>/dev/null
    rm -f "$RUN/web.pid"
    ;;
esac
`;

function release(version: string) {
  return buildRelease({
    name: 'app',
    version,
    jobs: [
      {
        name: 'web',
        monit: `check process web
  with pidfile /var/vcap/sys/run/web/web.pid
  start program "/var/vcap/jobs/web/bin/ctl start"
  stop program "/var/vcap/jobs/web/bin/ctl stop"
  group vcap
`,
        templates: {
          'ctl.erb': ctl,
          'drain.erb': '#!/bin/sh\necho 0\n',
          'config.yml.erb':
            'port: <%= p("port") %>\n<% if_p("greeting") do |g| %>greeting: <%= g %>\n<% end %>id: <%= spec.id %>\naz: <%= spec.az %>\nindex: <%= spec.index %>\n<%= p("raise_on") == "render" ? raise("template asked to raise") : "" %>\n',
        },
        destinations: {
          'ctl.erb': 'bin/ctl',
          'drain.erb': 'bin/drain',
          'config.yml.erb': 'config/config.yml',
        },
        packages: ['greeter'],
        properties: {
          port: { default: 8080 },
          greeting: { description: 'optional' },
          fail: { default: false },
          raise_on: { default: 'never' },
        },
      },
      // An errand job: `bin/run` prints the package's greeting and one to stderr, exits 0.
      {
        name: 'smoke',
        monit: '',
        templates: {
          'run.erb':
            '#!/bin/sh\necho "says: $(cat /var/vcap/packages/greeter/greeting.txt)"\necho "index <%= spec.index %>" >&2\n',
        },
        destinations: { 'run.erb': 'bin/run' },
        packages: ['greeter'],
      },
    ],
    packages: [
      {
        name: 'greeter',
        files: { 'greeting.txt': 'hello\n' },
        packaging:
          'set -e\ncp greeting.txt "${BOSH_INSTALL_TARGET}/"\necho compiled > "${BOSH_INSTALL_TARGET}/compiled-marker"\n',
      },
    ],
  });
}

const cloudConfig = {
  azs: [{ name: 'z1' }, { name: 'z2' }],
  vm_types: [{ name: 'default' }],
  disk_types: [{ name: 'small', disk_size: 64 }],
  networks: [
    {
      name: 'default',
      type: 'manual',
      subnets: [
        { range: '127.0.50.0/24', gateway: '127.0.50.1', az: 'z1', static: ['127.0.50.10 - 127.0.50.20'] },
        { range: '127.0.51.0/24', gateway: '127.0.51.1', az: 'z2' },
      ],
    },
  ],
  compilation: { workers: 1, az: 'z1', vm_type: 'default', network: 'default' },
};

function manifest(
  opts: {
    stemcell?: string;
    properties?: Record<string, unknown>;
    extra?: Record<string, unknown>;
    group?: Record<string, unknown>;
  } = {},
) {
  return stringify({
    name: 'dep',
    releases: [{ name: 'app', version: 'latest' }],
    stemcells: [{ alias: 'default', os: 'refit-minimal', version: opts.stemcell ?? '1' }],
    update: {
      canaries: 1,
      max_in_flight: 1,
      canary_watch_time: '1000-10000',
      update_watch_time: '1000-10000',
    },
    instance_groups: [
      {
        name: 'web',
        azs: ['z1', 'z2'],
        instances: 3,
        jobs: [{ name: 'web', release: 'app', properties: { port: 8080, ...opts.properties } }],
        vm_type: 'default',
        stemcell: 'default',
        persistent_disk: 64,
        networks: [{ name: 'default' }],
        ...opts.group,
      },
    ],
    ...opts.extra,
  });
}

/** The instance groups of the default manifest(). */
const manifestGroups = (): unknown[] => (parse(manifest()) as { instance_groups: unknown[] }).instance_groups;

describe('deploy with real refit-cpi-local VMs', { skip: skipUnlessRoot }, () => {
  let lab: VmLab | undefined;
  let director: RunningDirector;
  const need = () => lab ?? assert.fail('the director did not start');
  const instances = async () =>
    (await director.request('GET', '/deployments/dep/instances')).json<InstanceRow[]>();
  const cids = async () => new Map((await instances()).map((i) => [i.id, i.cid]));
  const deploy = (text: string, query = '') => need().deploy(text, query, 240_000);
  const changeState = (path: string) => need().put(path);
  const hostVms = () => need().hostVms();
  const hostDisks = () => need().hostDisks();
  const diskData = () => need().diskData();
  const stages = stagesOf;
  /** The per-agent users in the embedded nats-server's config, sorted. */
  const agentNatsUsers = async () =>
    [
      ...(await readFile(join(director.stateDir, 'nats', 'nats-server.conf'), 'utf8')).matchAll(
        /user: "(agent-[^"]+)"/g,
      ),
    ]
      .map((m) => m[1])
      .sort();

  before(async () => {
    lab = await VmLab.start('deploy-e2e');
    director = lab.director;
    const v1 = await buildStemcell(lab.work, '1');
    await buildStemcell(lab.work, '1.1');
    await lab.upload('/stemcells', v1.stemcell);
    await lab.upload('/releases', (await release('1')).tarball);
    await lab.updateCloudConfig(cloudConfig);
  });

  after(async () => {
    await lab?.stop(['dep']);
  });

  it('deploys 3 instances in 2 AZs with persistent disks, compiling the package on a compilation VM', async () => {
    const diff = await director.request('POST', '/deployments/dep/diff?redact=false', {
      body: manifest(),
      headers: yaml,
    });
    assert.equal(diff.status, 200);
    const diffBody = diff.json<{ diff: [string, string | null][] }>();
    assert.ok(diffBody.diff.length > 0 && diffBody.diff.every(([, kind]) => kind === 'added'));

    const { task, events } = await deploy(manifest());
    assert.equal(task.state, 'done', events);
    assert.deepEqual(stages(events), [
      'Preparing deployment',
      'Preparing package compilation',
      'Compiling packages',
      'Creating missing vms',
      'Downloading packages',
      'Updating instance',
    ]);
    const rows = await instances();
    assert.equal(rows.length, 3);
    assert.deepEqual(rows.map((r) => r.az).sort(), ['z1', 'z1', 'z2']);
    assert.ok(rows.every((r) => r.cid !== null && r.ips.length === 1 && r.ips[0]?.startsWith('127.0.5')));
    assert.equal((await hostVms()).length, 3, 'the compilation VM is gone');
    // Each VM's agent has its own NATS user (env.bosh.mbus.urls), the compilation VM's is revoked,
    // and the cpi log never shows a password.
    const cpiLog = await director.output(task.id, 'cpi');
    for (const r of rows) {
      const settings = JSON.parse(
        await readFile(
          join(director.stateDir, 'cpi-local', 'state', 'vms', r.cid ?? '', 'config-drive', 'settings.json'),
          'utf8',
        ),
      ) as { env: { bosh: { mbus: { urls: string[] } } } };
      const mbus = new URL(settings.env.bosh.mbus.urls[0] ?? '');
      assert.equal(mbus.username, `agent-${r.agent_id}`);
      assert.ok(mbus.password.length >= 32 && !cpiLog.includes(mbus.password), 'password not in the cpi log');
    }
    assert.deepEqual(await agentNatsUsers(), rows.map((r) => `agent-${r.agent_id}`).sort());
    assert.equal((await diskData()).size, 3, 'every persistent disk holds the job data');
    const full = director.taskOf(await director.request('GET', '/deployments/dep/vms?format=full'));
    assert.equal((await director.waitTask(full, 60_000)).state, 'done');
    const lines = (await director.output(full, 'result'))
      .trim()
      .split('\n')
      .map(
        (l) =>
          JSON.parse(l) as {
            job_state: string;
            vm_cid: string;
            stemcell: { version: string };
            ips: string[];
          },
      );
    assert.equal(lines.length, 3);
    assert.ok(
      lines.every((l) => l.job_state === 'running' && l.stemcell.version === '1' && l.ips.length === 1),
    );
    for (const kind of ['errands', 'variables']) {
      assert.deepEqual((await director.request('GET', `/deployments/dep/${kind}`)).json(), []);
    }
    const manifestBack = (await director.request('GET', '/deployments/dep')).json<{ manifest: string }>();
    assert.equal(manifestBack.manifest, manifest());
    const listed = (await director.request('GET', '/deployments')).json<
      { name: string; stemcells: unknown[] }[]
    >();
    assert.deepEqual(
      listed.map((d) => d.name),
      ['dep'],
    );
    assert.deepEqual(listed[0]?.stemcells, [{ name: 'refit-e2e', version: '1' }]);
  });

  it('run-errand of an errand group: a VM made for the run, run_errand on it, the VM deleted', async () => {
    const errandGroup = {
      name: 'smoke-tests',
      lifecycle: 'errand',
      azs: ['z1'],
      instances: 1,
      jobs: [{ name: 'smoke', release: 'app' }],
      vm_type: 'default',
      stemcell: 'default',
      networks: [{ name: 'default' }],
    };
    const withErrand = manifest({ extra: { instance_groups: [...manifestGroups(), errandGroup] } });
    assert.equal((await deploy(withErrand)).task.state, 'done');
    try {
      await runErrandGroup();
    } finally {
      // Back to the manifest the next tests expect (the errand instance goes, it has no VM).
      assert.equal((await deploy(manifest())).task.state, 'done');
    }
  });

  async function runErrandGroup(): Promise<void> {
    assert.deepEqual((await director.request('GET', '/deployments/dep/errands')).json(), [
      { name: 'smoke-tests' },
    ]);
    const before = await cids();
    const errandCid = async () =>
      (await instances()).find((i) => !before.has(i.id) || before.get(i.id) === null)?.cid ?? null;
    /** Runs the errand with `body`; its task's event log and result lines. */
    const runErrand = async (body: Record<string, unknown>) => {
      const reply = await director.request('POST', '/deployments/dep/errands/smoke-tests/runs', {
        body: JSON.stringify(body),
        headers: { 'content-type': 'application/json' },
      });
      const id = director.taskOf(reply);
      const task = await director.waitTask(id, 240_000);
      const events = await director.output(id, 'event');
      assert.equal(task.state, 'done', events);
      assert.equal(task.description, 'run errand smoke-tests');
      const lines = (await director.output(id, 'result'))
        .split('\n')
        .filter((l) => l !== '')
        .map(
          (l) =>
            JSON.parse(l) as {
              exit_code: number;
              stdout: string;
              stderr: string;
              instance: { group: string };
            },
        );
      return { events, lines, cpi: await director.output(id, 'cpi') };
    };
    // keep_alive: the VM made for the run stays.
    const kept = await runErrand({ keep_alive: true });
    assert.deepEqual(
      kept.lines.map((r) => ({
        exit_code: r.exit_code,
        stdout: r.stdout,
        stderr: r.stderr,
        group: r.instance.group,
      })),
      [{ exit_code: 0, stdout: 'says: hello\n', stderr: 'index 0\n', group: 'smoke-tests' }],
    );
    assert.ok(stages(kept.events).includes('Running errand') && kept.cpi.includes('create_vm'), kept.cpi);
    assert.ok(!stages(kept.events).includes('Deleting errand instances'));
    assert.equal((await hostVms()).length, 4, 'the errand VM is kept');
    const keptCid = await errandCid();
    assert.notEqual(keptCid, null);
    // when_changed: nothing changed since that successful run, so nothing runs.
    const skipped = await runErrand({ when_changed: true });
    assert.deepEqual(skipped.lines, []);
    assert.ok(!stages(skipped.events).includes('Running errand'));
    // A plain run reuses the kept VM, then deletes it.
    const plain = await runErrand({});
    assert.equal(plain.lines[0]?.exit_code, 0);
    assert.ok(stages(plain.events).includes('Deleting errand instances'));
    assert.ok(!plain.cpi.includes('create_vm') && plain.cpi.includes('delete_vm'), plain.cpi);
    assert.equal((await hostVms()).length, 3, 'the errand VM is gone');
    assert.equal(await errandCid(), null);
    assert.deepEqual(
      new Map([...(await cids())].filter(([i]) => before.get(i) !== null && before.has(i))),
      new Map([...before].filter(([, cid]) => cid !== null)),
      'the service VMs are untouched',
    );
  }

  it('updates a property in place: no VM replaced, and a converged deploy does nothing', async () => {
    const before = await cids();
    const { task, events } = await deploy(manifest({ properties: { greeting: 'hi' } }));
    assert.equal(task.state, 'done', events);
    assert.deepEqual(await cids(), before);
    assert.equal(startedTasks(events, 'Updating instance').length, 3);
    assert.ok(!stages(events).includes('Compiling packages'), 'the compiled package is reused');
    const again = await deploy(manifest({ properties: { greeting: 'hi' } }));
    assert.equal(again.task.state, 'done');
    assert.deepEqual(startedTasks(again.events, 'Updating instance'), [], 'nothing to update');
  });

  it('bumps the stemcell: every VM recreated, canary first, persistent data intact', async () => {
    await need().upload('/stemcells', join(need().work, 'sc-1.1/stemcell.tgz'));
    const before = await cids();
    const data = await diskData();
    const { task, events } = await deploy(manifest({ stemcell: '1.1', properties: { greeting: 'hi' } }));
    assert.equal(task.state, 'done', events);
    const after = await cids();
    for (const [id, cid] of before) assert.notEqual(after.get(id), cid, `${id} got a new VM`);
    const updated = startedTasks(events, 'Updating instance');
    assert.equal(updated.length, 3);
    assert.match(updated[0] ?? '', /\(canary\)$/);
    assert.deepEqual(await diskData(), data, 'same disks, same bytes');
  });

  it('a job failing on the canary stops the rollout; the fixed deploy converges', async () => {
    const before = await cids();
    const failed = await deploy(manifest({ stemcell: '1.1', properties: { greeting: 'hi', fail: true } }));
    assert.equal(failed.task.state, 'error');
    assert.match(failed.events, /is not running after update/);
    const touched = startedTasks(failed.events, 'Updating instance');
    assert.equal(touched.length, 1, 'only the canary was touched');
    assert.match(touched[0] ?? '', /\(canary\)$/);
    assert.deepEqual(await cids(), before);

    const fixed = await deploy(manifest({ stemcell: '1.1', properties: { greeting: 'hi' } }));
    assert.equal(fixed.task.state, 'done', fixed.events);
    const again = await deploy(manifest({ stemcell: '1.1', properties: { greeting: 'hi' } }));
    assert.deepEqual(startedTasks(again.events, 'Updating instance'), []);
  });

  it('restart, stop --hard, start and recreate through PUT /deployments/dep/jobs', async () => {
    const before = await cids();
    const restarted = await changeState('/deployments/dep/jobs/*?state=restart');
    assert.equal(restarted.task.state, 'done', restarted.events);
    assert.deepEqual(await cids(), before);

    const first = (await instances()).find((i) => i.index === 0);
    assert.ok(first);
    const detached = await changeState(`/deployments/dep/jobs/web/${first.id}?state=detached`);
    assert.equal(detached.task.state, 'done', detached.events);
    assert.equal((await instances()).find((i) => i.id === first.id)?.cid, null);
    assert.equal((await hostVms()).length, 2);
    assert.equal((await hostDisks()).length, 3, 'the disk is kept');

    const started = await changeState(`/deployments/dep/jobs/web/${first.id}?state=started`);
    assert.equal(started.task.state, 'done', started.events);
    assert.notEqual((await instances()).find((i) => i.id === first.id)?.cid, null);

    const beforeRecreate = await cids();
    const recreated = await changeState('/deployments/dep/jobs/*?state=recreate');
    assert.equal(recreated.task.state, 'done', recreated.events);
    const after = await cids();
    for (const [id, cid] of beforeRecreate) assert.notEqual(after.get(id), cid);
  });

  it('refuses bad input before any VM is touched', async () => {
    const vms = await hostVms();
    const refusals: [string, RegExp][] = [
      [manifest({ extra: { bogus_key: 1 } }), /bogus_key/],
      [manifest().replace('name: app', 'name: nope'), /nope/],
      [manifest({ stemcell: '9.9' }), /9\.9/],
      [manifest({ group: { networks: [{ name: 'missing' }] } }), /missing/],
      [
        manifest({
          group: { instances: 1, azs: ['z1'], networks: [{ name: 'default', static_ips: ['127.0.60.5'] }] },
        }),
        /127\.0\.60\.5/,
      ],
      [manifest({ properties: { raise_on: 'render' } }), /template asked to raise/],
    ];
    for (const [text, pattern] of refusals) {
      const { task, events } = await deploy(text);
      assert.equal(task.state, 'error', text);
      assert.match(events, pattern);
      assert.ok(!stages(events).includes('Updating instance'));
    }
    // A dry run plans and renders, then stops: the plan summary is the result, no VM touched.
    const dry = director.taskOf(
      await director.request('POST', '/deployments?dry_run=true&recreate=true', {
        body: manifest({ stemcell: '1.1', properties: { greeting: 'hi' } }),
        headers: yaml,
      }),
    );
    assert.equal((await director.waitTask(dry, 60_000)).state, 'done');
    const summary = (await director.output(dry, 'result'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { instance: string; action: string; reason: string });
    assert.equal(summary.length, 3);
    assert.ok(summary.every((row) => row.action === 'recreate' && /^web\/.+ \(\d\)$/.test(row.instance)));
    // A deploy while another task holds the deployment lock.
    const holder = director.taskOf(
      await director.request('POST', '/test_tasks', {
        body: JSON.stringify({ seconds: 60, locks: ['lock:deployment:dep'], deployment: 'dep' }),
        headers: { 'content-type': 'application/json' },
      }),
    );
    for (let i = 0; i < 200; i++) {
      const locks = (await director.request('GET', '/locks')).json<unknown[]>();
      if (locks.length > 0) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const locked = await deploy(manifest({ stemcell: '1.1', properties: { greeting: 'hi' } }));
    assert.equal(locked.task.state, 'error');
    assert.match(locked.events, /Failed to acquire lock for lock:deployment:dep/);
    assert.match(locked.events, /"code":100100/);
    await director.request('DELETE', `/task/${holder}`);
    await director.waitTask(holder, 30_000);
    assert.deepEqual(await hostVms(), vms, 'no VM created or deleted');
  });

  it('delete-deployment orphans the disks (as BOSH); once they are deleted nothing is left behind', async () => {
    const rows = await instances();
    const disks = await hostDisks();
    assert.equal(disks.length, 3);
    const { id } = { id: director.taskOf(await director.request('DELETE', '/deployments/dep')) };
    const task = await director.waitTask(id, 120_000);
    assert.equal(task.state, 'done', await director.output(id, 'event'));
    assert.deepEqual(await hostVms(), []);
    assert.deepEqual(await hostDisks(), disks, 'the disks are kept, orphaned');
    const orphans = (await director.request('GET', '/disks?orphaned=true')).json<
      { disk_cid: string; deployment_name: string; instance_name: string }[]
    >();
    assert.deepEqual(orphans.map((o) => o.disk_cid).sort(), disks);
    assert.deepEqual(orphans.map((o) => o.instance_name).sort(), rows.map((r) => `${r.job}/${r.id}`).sort());
    assert.ok(orphans.every((o) => o.deployment_name === 'dep'));
    for (const disk of disks) {
      const deleted = director.taskOf(await director.request('DELETE', `/disks/${disk}`));
      assert.equal((await director.waitTask(deleted, 60_000)).state, 'done');
    }
    assert.deepEqual((await director.request('GET', '/disks?orphaned=true')).json(), []);
    assert.deepEqual(await hostDisks(), []);
    assert.deepEqual(await agentNatsUsers(), [], 'every per-agent NATS user revoked');
    for (const r of rows) assert.deepEqual(await processesMentioning(`refit-deploy-web-${r.id}`), []);
    assert.deepEqual((await director.request('GET', '/deployments')).json(), []);
    assert.equal((await director.request('GET', '/deployments/dep')).status, 404);
  });
});
