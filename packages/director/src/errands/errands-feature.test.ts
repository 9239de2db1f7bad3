// The errands feature in process, against both databases: routes called directly, tasks run by
// the real TaskRunner, the updater's fake agents (call log) and the real deployment and release
// stores. Covers the listing, colocated errands run in place (exit codes, result lines, the
// `--instance` filter), `--when-changed`, errand groups, and BOSH's refusals.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { AgentMethod, AgentMethodArgs, AgentMethodResult, ErrandRunResultLine } from '@refit/protocol';
import { CallLog, FakeAgentClient, FakeCloud } from '@refit/testkit/updater-fakes/index.ts';
import type { AgentCallOptions } from '../agent-client/agent-client.ts';
import { releasesMigration } from '../db/migrations/004-releases.ts';
import { stemcellsMigration } from '../db/migrations/002-stemcells.ts';
import { testBackends, type TestDatabase } from '../db/test-databases.ts';
import { DeploymentStore } from '../deployments/deployment-store.ts';
import { deploymentsFeature } from '../deployments/index.ts';
import { DirectorError } from '../errors.ts';
import type { InstancePlan } from '../planner/plan-types.ts';
import { finishedTask, routeCaller } from '../stemcells/route-calls.test-support.ts';
import { taskOutputPath } from '../tasks/task-files.ts';
import { startFeatures, type FeatureHarness } from '../tasks/feature-harness.test-support.ts';
import { errandsFeature } from './index.ts';

/** Fake agents whose `run_errand` answers what `errand` says for the agent. */
class ErrandAgents extends FakeAgentClient {
  errand: (agentId: string) => { exit_code: number; stdout: string; stderr: string } = (agentId) => ({
    exit_code: 0,
    stdout: `ran on ${agentId}\n`,
    stderr: '',
  });
  override call<M extends AgentMethod>(
    agentId: string,
    method: M,
    args: AgentMethodArgs<M>,
    options?: AgentCallOptions,
  ): Promise<AgentMethodResult<M>> {
    const base = super.call(agentId, method, args, options);
    if (method !== 'run_errand') return base;
    return base.then(() => this.errand(agentId) as AgentMethodResult<M>);
  }
}

const manifest = `
name: dep
releases: [{name: rel, version: '1'}]
instance_groups:
- name: web
  instances: 2
  jobs: [{name: server, release: rel}, {name: smoke, release: rel}]
- name: worker
  instances: 1
  jobs: [{name: smoke, release: rel}]
- name: migrate
  lifecycle: errand
  instances: 1
  jobs: [{name: migrator, release: rel}]
`;

const jobs: Record<string, Record<string, string>> = {
  server: { 'ctl.erb': 'bin/ctl' },
  smoke: { 'run.erb': 'bin/run' },
  migrator: { 'run.erb': 'bin/run' },
};

async function seed(db: TestDatabase['db']): Promise<void> {
  const now = new Date().toISOString();
  const [release] = await db.query<{ id: number }>(
    'INSERT INTO releases (name, created_at) VALUES ($1, $2) RETURNING id',
    ['rel', now],
  );
  const [version] = await db.query<{ id: number }>(
    `INSERT INTO release_versions (release_id, version, commit_hash, uncommitted_changes, created_at)
     VALUES ($1, '1', 'abc', 0, $2) RETURNING id`,
    [release?.id ?? 0, now],
  );
  for (const [name, templates] of Object.entries(jobs)) {
    const [t] = await db.query<{ id: number }>(
      `INSERT INTO templates (release_id, name, version, fingerprint, sha1, blobstore_id, package_names, spec, created_at)
       VALUES ($1, $2, 'v1', $3, 'sha', $4, '[]', $5, $6) RETURNING id`,
      [release?.id ?? 0, name, `fp-${name}`, `blob-${name}`, JSON.stringify({ name, templates }), now],
    );
    await db.query(
      'INSERT INTO release_version_templates (release_version_id, template_id) VALUES ($1, $2)',
      [version?.id ?? 0, t?.id ?? 0],
    );
  }
  const store = new DeploymentStore(db);
  await store.ensure('dep');
  await store.saveManifest('dep', manifest, null);
  const state = store.stateStore('dep');
  const instances = [
    { id: 'w0', group: 'web', index: 0, vm: true },
    { id: 'w1', group: 'web', index: 1, vm: true },
    { id: 'k0', group: 'worker', index: 0, vm: true },
    { id: 'm0', group: 'migrate', index: 0, vm: false },
  ];
  for (const i of instances) {
    const plan = { id: i.id, group: i.group, index: i.index, az: 'z1', desiredState: 'started', tags: {} };
    await store.createInstance('dep', plan as unknown as InstancePlan);
    await store.setState(i.id, 'started');
    if (i.vm) {
      await state.vmCreated(i.id, {
        cid: `vm-${i.id}`,
        agentId: `agent-${i.id}`,
        stemcell: { name: 's', version: '1' },
        cloudProperties: {},
        env: {},
        networkSettings: {},
        createdAt: '2026-01-01T00:00:00Z',
      });
    }
  }
}

for (const backend of testBackends()) {
  describe(`errands feature on ${backend.name}`, { skip: backend.skip }, () => {
    let h: FeatureHarness;
    let log: CallLog;
    let agents: ErrandAgents;

    beforeEach(async () => {
      log = new CallLog();
      agents = new ErrandAgents(log);
      const extra = { agents: () => agents };
      const errands = errandsFeature(extra);
      h = await startFeatures(backend, {
        name: 'errands-feature',
        migrations: [stemcellsMigration, releasesMigration],
        features: [deploymentsFeature(extra), errands],
        routesOf: errands,
        cloud: new FakeCloud(log),
      });
      await seed(h.database.db);
    });
    afterEach(() => h.stop());

    const call = (...args: Parameters<ReturnType<typeof routeCaller>>) => routeCaller(h.routes)(...args);
    const run = async (name: string, body: unknown = {}) => {
      const done = await finishedTask(
        h.runner,
        await call('POST', `/deployments/dep/errands/${name}/runs`, JSON.stringify(body)),
      );
      const output = await readFile(taskOutputPath(h.dir, done.id, 'result'), 'utf8').catch(() => '');
      const lines = output
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as ErrandRunResultLine);
      return { done, lines };
    };
    const errandCalls = () =>
      agents.calls.filter((c) => c.method === 'run_errand').map((c) => `${c.agentId}:${String(c.args[0])}`);
    const code = async (promise: Promise<unknown>) => {
      try {
        await promise;
      } catch (error) {
        assert.ok(error instanceof DirectorError, String(error));
        return error.code;
      }
      return assert.fail('expected a director error');
    };

    it('lists errand groups and jobs with a bin/run, in manifest order', async () => {
      const reply = await call('GET', '/deployments/dep/errands');
      assert.deepEqual(reply, { kind: 'json', body: [{ name: 'migrate' }, { name: 'smoke' }] });
      assert.equal(await code(call('GET', '/deployments/nope/errands')), 70000);
    });

    it('runs a colocated errand in place on every instance that has the job, one result line each', async () => {
      agents.errand = (agentId) =>
        agentId === 'agent-w1'
          ? { exit_code: 3, stdout: '', stderr: 'boom\n' }
          : { exit_code: 0, stdout: `ran on ${agentId}\n`, stderr: '' };
      const { done, lines } = await run('smoke');
      assert.equal(done.state, 'done', done.result ?? '');
      assert.equal(done.description, 'run errand smoke');
      assert.equal(done.result, "Errand 'smoke' completed with error (exit code 3)");
      assert.deepEqual(errandCalls().sort(), ['agent-k0:smoke', 'agent-w0:smoke', 'agent-w1:smoke']);
      assert.deepEqual(
        lines,
        [
          {
            exit_code: 0,
            stdout: 'ran on agent-w0\n',
            stderr: '',
            logs: { blobstore_id: null },
            instance: { group: 'web', id: 'w0' },
            errand_name: 'smoke',
          },
          {
            exit_code: 3,
            stdout: '',
            stderr: 'boom\n',
            logs: { blobstore_id: null },
            instance: { group: 'web', id: 'w1' },
            errand_name: 'smoke',
          },
          {
            exit_code: 0,
            stdout: 'ran on agent-k0\n',
            stderr: '',
            logs: { blobstore_id: null },
            instance: { group: 'worker', id: 'k0' },
            errand_name: 'smoke',
          },
        ].sort((a, b) =>
          a.instance.group === b.instance.group
            ? a.instance.id < b.instance.id
              ? -1
              : 1
            : a.instance.group < b.instance.group
              ? -1
              : 1,
        ),
      );
      assert.equal(log.matching('cpi:create_vm').length, 0, 'no VM made for a colocated errand');
    });

    it('--instance narrows the run to a group or one instance (by id or index)', async () => {
      const { lines } = await run('smoke', { instances: [{ group: 'web', id: '1' }, { group: 'worker' }] });
      assert.deepEqual(
        lines.map((l) => `${l.instance.group}/${l.instance.id}`),
        ['web/w1', 'worker/k0'],
      );
      assert.deepEqual(errandCalls().sort(), ['agent-k0:smoke', 'agent-w1:smoke']);
      const missing = await run('smoke', { instances: [{ group: 'db' }] });
      assert.equal(missing.done.state, 'error');
      assert.match(missing.done.result ?? '', /No instances match selection 'db' for errand 'smoke'/);
    });

    it('--when-changed skips a run when every instance is as at its last successful run', async () => {
      const filter = { instances: [{ group: 'worker' }], when_changed: true };
      assert.equal((await run('smoke', filter)).lines.length, 1);
      const skipped = await run('smoke', filter);
      assert.equal(skipped.lines.length, 0);
      assert.equal(skipped.done.result, "Errand 'smoke' was not run");
      assert.equal(errandCalls().length, 1);
      // A change of configuration runs it again.
      await new DeploymentStore(h.database.db).stateStore('dep').updateCompleted('k0', {
        state: 'started',
        hashes: { packages: 'p', job: 'j', configuration: 'changed' },
        applySpec: { job: { templates: [] }, networks: {}, packages: {}, persistent_disk: 0 },
      });
      assert.equal((await run('smoke', filter)).lines.length, 1);
      assert.equal(errandCalls().length, 2);
      // A failed run is run again even when nothing changed.
      agents.errand = () => ({ exit_code: 1, stdout: '', stderr: '' });
      await run('smoke', { instances: [{ group: 'worker' }] });
      agents.errand = () => ({ exit_code: 0, stdout: '', stderr: '' });
      assert.equal((await run('smoke', filter)).lines.length, 1);
      assert.equal(errandCalls().length, 4);
    });

    it('an errand group goes through the deploy preparation of the stored manifest (refused here: not a full manifest)', async () => {
      const { done } = await run('migrate');
      assert.equal(done.state, 'error');
      assert.match(done.result ?? '', /deployment manifest is invalid/);
      assert.deepEqual(errandCalls(), []);
      assert.equal(log.matching('cpi:create_vm').length, 0);
    });

    it('refuses an unknown errand or deployment before any task', async () => {
      assert.equal(await code(call('POST', '/deployments/dep/errands/nope/runs', '{}')), 510000);
      assert.equal(await code(call('POST', '/deployments/nope/errands/smoke/runs', '{}')), 70000);
      assert.equal(
        await code(call('POST', '/deployments/dep/errands/smoke/runs', '{"keep_alive": 3}')),
        40000,
      );
    });
  });
}
