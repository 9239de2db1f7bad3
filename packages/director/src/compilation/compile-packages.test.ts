// compilePackages (deployments/compile-packages.ts) against the testkit's in-memory CPI, agents
// that compile by answering `compile_package`, and a real database: `compilation.workers`
// bounds the packages compiled at once, dependencies compile first, `reuse_compilation_vms`
// keeps at most `workers` VMs, and every compilation VM is recorded while it exists.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { AgentMethod, AgentMethodArgs, AgentMethodResult } from '@refit/protocol';
import { CallLog, FakeCloud } from '@refit/testkit/updater-fakes/index.ts';
import type { AgentCallOptions, AgentClient } from '../agent-client/agent-client.ts';
import { coreMigration } from '../db/core-migration.ts';
import { releasesMigration } from '../db/migrations/004-releases.ts';
import { testBackends, type TestDatabase } from '../db/test-databases.ts';
import { compilationVmsMigration } from '../deployments/013-compilation-vms.ts';
import { compilePackages, PackageCompilationFailed } from '../deployments/compile-packages.ts';
import type { PreparedDeployment } from '../deployments/prepare-deployment.ts';
import { compileCloudConfig } from '../manifests/compile-cloud-config.ts';
import { DbIpReservationStore, ipReservationsMigration } from '../networking/index.ts';
import type { PackageRecord } from '../releases/release-store.ts';
import type { StemcellRecord } from '../stemcells/stemcell-store.ts';
import { JsonEventLog } from '../tasks/json-event-log.ts';
import { CompilationVmStore } from './compilation-vm-store.ts';

const sha = (algorithm: string, text: string) => createHash(algorithm).update(text).digest('hex');

/** Agents of compilation VMs: `compile_package` takes a few event-loop turns and is recorded. */
class CompilingAgents implements AgentClient {
  readonly started: string[] = [];
  readonly finished: string[] = [];
  /** Package → the VM (agent) that compiled it, and the compilation VMs recorded meanwhile. */
  readonly seen = new Map<string, { agentId: string; recorded: readonly string[] }>();
  active = 0;
  maxActive = 0;
  fail: string | null = null;
  /** The first compilations wait until this many run at once (so the bound is reached, not raced). */
  holdUntil = 1;
  #held: (() => void)[] = [];
  readonly #vmsRecorded: () => Promise<readonly string[]>;
  readonly #agentVm = new Map<string, string>();

  constructor(vmsRecorded: () => Promise<readonly string[]>) {
    this.#vmsRecorded = vmsRecorded;
  }

  async call<M extends AgentMethod>(
    agentId: string,
    method: M,
    args: AgentMethodArgs<M>,
    options?: AgentCallOptions,
  ): Promise<AgentMethodResult<M>> {
    options?.signal?.throwIfAborted();
    assert.equal(method, 'compile_package');
    const [, , name, version, dependencies] = args as unknown as [
      string,
      string,
      string,
      string,
      Record<string, unknown>,
    ];
    for (const dep of Object.keys(dependencies)) {
      assert.ok(this.finished.includes(dep), `${name} compiled before its dependency ${dep}`);
    }
    this.started.push(name);
    this.active++;
    this.maxActive = Math.max(this.maxActive, this.active);
    const recorded = await this.#vmsRecorded();
    this.seen.set(name, { agentId, recorded });
    assert.ok(recorded.includes(this.#agentVm.get(agentId) ?? '?'), 'the VM compiling is recorded');
    if (this.active >= this.holdUntil) {
      this.holdUntil = 0;
      for (const release of this.#held.splice(0)) release();
    } else {
      await new Promise<void>((ok, fail) => {
        this.#held.push(ok);
        options?.signal?.addEventListener('abort', () => fail(new Error('held compilation aborted')), {
          once: true,
        });
      });
    }
    for (let i = 0; i < 3; i++) await new Promise((ok) => setImmediate(ok));
    this.active--;
    if (name === this.fail) throw new Error(`compiling ${name} failed`);
    this.finished.push(name);
    const blob = `compiled ${name}/${version}`;
    return { result: { blobstore_id: sha('sha256', blob), sha1: sha('sha1', blob) } } as AgentMethodResult<M>;
  }

  waitUntilReady(agentId: string, vmCid: string): Promise<void> {
    this.#agentVm.set(agentId, vmCid);
    return Promise.resolve();
  }
}

const pkg = (name: string, dependencies: string[] = []): PackageRecord => ({
  id: 0,
  releaseId: 1,
  name,
  version: `${name}-v1`,
  fingerprint: sha('sha1', `fp ${name}`),
  sha1: sha('sha1', `src ${name}`),
  blobstoreId: sha('sha256', `src ${name}`),
  dependencies,
});

// a ← b, a ← c, b+c ← d; e, f, g on their own.
const packages = [
  pkg('a'),
  pkg('b', ['a']),
  pkg('c', ['a']),
  pkg('d', ['b', 'c']),
  pkg('e'),
  pkg('f'),
  pkg('g'),
];

const stemcell: StemcellRecord = {
  id: 1,
  name: 'bosh-test-stemcell',
  version: '1.0',
  operatingSystem: 'ubuntu-jammy',
  cpi: 'fake',
  cid: 'stemcell-1',
  sha1: 'x',
  apiVersion: 2,
  createdAt: '',
};

function prepared(compilation: Record<string, unknown>): PreparedDeployment {
  const cloudConfig = compileCloudConfig({
    networks: [
      { name: 'default', type: 'manual', subnets: [{ range: '127.0.70.0/24', gateway: '127.0.70.1' }] },
    ],
    compilation: { network: 'default', ...compilation },
  });
  // Only what compilePackages reads.
  return {
    compiled: { name: 'dep' },
    plan: {
      instanceGroups: [
        {
          lifecycle: 'service',
          group: { stemcell: { alias: 'default' }, jobs: [{ name: 'web', release: 'app' }] },
        },
      ],
    },
    releases: new Map([
      [
        'app',
        {
          release: { releaseName: 'app', version: '1' },
          jobs: [{ name: 'web', packageNames: ['d', 'e', 'f', 'g'] }],
          packages,
        },
      ],
    ]),
    stemcells: new Map([['default', stemcell]]),
    cloudConfig,
  } as unknown as PreparedDeployment;
}

for (const backend of testBackends()) {
  describe(`compilePackages on ${backend.name}`, { skip: backend.skip }, () => {
    let database: TestDatabase;
    let cloud: FakeCloud;
    let agents: CompilingAgents;
    let events: string[];

    before(async () => {
      database = await backend.create({
        migrations: [coreMigration, releasesMigration, ipReservationsMigration, compilationVmsMigration],
      });
    });
    after(() => database.cleanup());
    beforeEach(async () => {
      await database.db.execute('DELETE FROM compiled_packages');
      await database.db.execute('DELETE FROM compilation_vms');
      await database.db.execute('DELETE FROM ip_reservations');
      cloud = new FakeCloud(new CallLog());
      const store = new CompilationVmStore(database.db);
      agents = new CompilingAgents(async () => (await store.forDeployment('dep')).map((vm) => vm.cid));
      events = [];
    });

    const compile = (compilation: Record<string, unknown>) =>
      compilePackages(
        {
          db: database.db,
          cloud,
          agents,
          events: new JsonEventLog((line) => events.push(line)),
          cpiLog: { write: () => undefined },
          signal: AbortSignal.timeout(60_000),
          agentEnv: {},
          directorName: 'refit',
        },
        prepared(compilation),
      );
    const creates = () => cloud.calls.filter((c) => c.method === 'create_vm').length;
    const leftRecords = async () => (await new CompilationVmStore(database.db).forDeployment('dep')).length;
    const leftIps = async () => (await database.db.query('SELECT ip FROM ip_reservations')).length;

    for (const workers of [1, 3]) {
      it(`workers: ${workers} — at most ${workers} at once, dependencies first, a VM per package`, async () => {
        agents.holdUntil = workers; // a, e, f and g are ready at once: `workers` of them must run together
        const result = await compile({ workers });
        assert.deepEqual([...(result.get('default')?.keys() ?? [])].sort(), [
          'a',
          'b',
          'c',
          'd',
          'e',
          'f',
          'g',
        ]);
        assert.equal(agents.maxActive, workers);
        assert.ok(agents.started.indexOf('d') > agents.finished.indexOf('b'));
        assert.ok(agents.started.indexOf('d') > agents.finished.indexOf('c'));
        assert.equal(creates(), packages.length);
        assert.equal(cloud.vms.size, 0, 'every compilation VM deleted');
        assert.equal(await leftRecords(), 0);
        assert.equal(await leftIps(), 0);
        const compiling = events
          .map((l) => JSON.parse(l) as { stage: string; task: string; state: string; total: number })
          .filter((e) => e.stage === 'Compiling packages' && e.state === 'finished');
        assert.deepEqual(
          compiling.map((e) => e.task).sort(),
          packages.map((p) => `${p.name}/${p.version}`).sort(),
        );
        assert.ok(compiling.every((e) => e.total === packages.length));
      });
    }

    it('reuse_compilation_vms: at most `workers` VMs, reused, deleted at the end', async () => {
      agents.holdUntil = 2;
      await compile({ workers: 2, reuse_compilation_vms: true });
      assert.equal(agents.maxActive, 2);
      assert.equal(creates(), 2);
      assert.equal(new Set([...agents.seen.values()].map((s) => s.agentId)).size, 2);
      assert.ok(Math.max(...[...agents.seen.values()].map((s) => s.recorded.length)) <= 2);
      assert.equal(cloud.vms.size, 0);
      assert.equal(await leftRecords(), 0);
      assert.equal(await leftIps(), 0);
    });

    it('packages compiled once are found, not compiled again', async () => {
      await compile({ workers: 2 });
      const before = creates();
      agents.started.length = 0;
      await compile({ workers: 2 });
      assert.equal(creates(), before);
      assert.deepEqual(agents.started, []);
    });

    it('a failed compilation stops new ones and deletes every VM (reused or not)', async () => {
      for (const reuse of [false, true]) {
        agents.fail = 'a';
        await assert.rejects(compile({ workers: 2, reuse_compilation_vms: reuse }), /compiling a failed/);
        assert.ok(!agents.started.includes('b') && !agents.started.includes('d'));
        assert.equal(cloud.vms.size, 0);
        assert.equal(await leftRecords(), 0);
        assert.equal(await leftIps(), 0);
      }
    });

    it('the next deploy deletes compilation VMs a killed director left behind', async () => {
      // As if the director died mid-compilation: a VM exists and is recorded, its IP reserved.
      cloud.vms.set('vm-left', { agentId: 'agent-left', disks: new Set() });
      await new CompilationVmStore(database.db).add({
        cid: 'vm-left',
        deployment: 'dep',
        agentId: 'agent-left',
        instanceId: 'compilation-left',
      });
      await new DbIpReservationStore(database.db).apply({
        add: [
          {
            deployment: 'dep',
            instanceId: 'compilation-left',
            network: 'default',
            ip: '127.0.70.2',
            type: 'dynamic',
          },
        ],
        release: [],
      });
      await compile({ workers: 2 });
      assert.ok(cloud.calls.some((c) => c.method === 'delete_vm' && c.args[0] === 'vm-left'));
      assert.equal(cloud.vms.size, 0);
      assert.equal(await leftRecords(), 0);
      assert.equal(await leftIps(), 0);
    });

    it('no compilation block: refused before any VM', async () => {
      const noCompilation = { ...prepared({ workers: 1 }) };
      const cloudConfig = { ...noCompilation.cloudConfig, compilation: null };
      await assert.rejects(
        compilePackages(
          {
            db: database.db,
            cloud,
            agents,
            events: new JsonEventLog(() => undefined),
            cpiLog: { write: () => undefined },
            signal: AbortSignal.timeout(60_000),
            agentEnv: {},
            directorName: 'refit',
          },
          { ...noCompilation, cloudConfig },
        ),
        PackageCompilationFailed,
      );
      assert.equal(creates(), 0);
    });
  });
}
