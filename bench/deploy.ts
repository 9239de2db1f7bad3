// The director's own time per instance for a deploy of N instances (default 200) against a CPI
// that answers at once (in process) and agents that answer at once (a responder process over a
// real nats-server, reached through the director's NatsAgentClient). Three rollouts: create
// (new deployment), in place (configuration changed), recreate (stemcell changed). The
// director's state goes to a real SQLite database through the deployments store, as in a
// deploy. Printed per rollout: wall time, the director process's CPU time (everything it does:
// planning, the updater, SQL, the NATS client; the agents run in another process), and the same
// agent calls made bare over NATS (the baseline): wall / baseline says how much the director
// adds around the round trips it cannot avoid.
//
//   npx node bench/deploy.ts [--instances N] [--max-in-flight N]
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { connect } from 'nats';
import { NatsAgentClient } from '../packages/director/src/agent-client/nats-agent-client.ts';
import { createDirectorLog } from '../packages/director/src/config/director-log.ts';
import type { Cloud } from '../packages/director/src/cpi-client/cloud.ts';
import { coreMigration } from '../packages/director/src/db/core-migration.ts';
import { runMigrations } from '../packages/director/src/db/migrate.ts';
import { SqliteDb } from '../packages/director/src/db/sqlite-db.ts';
import { deploymentsMigrations } from '../packages/director/src/deployments/index.ts';
import { realClock } from '../packages/director/src/deployments/deploy-task.ts';
import { DeploymentStore } from '../packages/director/src/deployments/deployment-store.ts';
import { compileCloudConfig } from '../packages/director/src/manifests/compile-cloud-config.ts';
import { compileManifest } from '../packages/director/src/manifests/compile-manifest.ts';
import { DbIpReservationStore } from '../packages/director/src/networking/index.ts';
import {
  applyRenderedHashes,
  planDeployment,
  type DeploymentPlan,
} from '../packages/director/src/planner/index.ts';
import { JsonEventLog } from '../packages/director/src/tasks/json-event-log.ts';
import { runPool } from '../packages/director/src/updater/run-pool.ts';
import { updateDeployment } from '../packages/director/src/updater/update-deployment.ts';
import type { InstanceTarget, UpdaterDeps } from '../packages/director/src/updater/updater-ports.ts';
import { NatsServer } from '../tests/e2e/vm-harness/nats-server.ts';
import { LocalDirBlobstore } from '../packages/director/src/blobstore/local-dir-blobstore.ts';
import { renderInstanceTemplates } from '../packages/director/src/templates/index.ts';
import { JobManifest } from '@refit/protocol';

const { values: flags } = parseArgs({
  options: {
    instances: { type: 'string', default: '200' },
    'max-in-flight': { type: 'string', default: '10' },
    responder: { type: 'string' },
  },
});

/** The agents: every action answered at once (synchronously), `get_state` running. */
async function respond(url: string): Promise<void> {
  const u = new URL(url);
  const nc = await connect({
    servers: u.host,
    user: decodeURIComponent(u.username),
    pass: decodeURIComponent(u.password),
  });
  nc.subscribe('agent.>', {
    callback: (error, message) => {
      if (error) return;
      const request = JSON.parse(new TextDecoder().decode(message.data)) as {
        method: string;
        reply_to: string;
      };
      const agentId = message.subject.slice('agent.'.length);
      let value: unknown = 'ok';
      if (request.method === 'ping') value = 'pong';
      else if (request.method === 'drain') value = 0;
      else if (request.method === 'get_state') {
        value = {
          agent_id: agentId,
          job_state: 'running',
          processes: [],
          vm: { name: agentId },
          job: null,
          networks: {},
          packages: {},
          persistent_disk: 0,
        };
      }
      nc.publish(request.reply_to, JSON.stringify({ value }));
    },
  });
  process.stdout.write('ready\n');
  await new Promise(() => undefined);
}

if (flags.responder) {
  await respond(flags.responder);
}

const n = Number(flags.instances);
const maxInFlight = Number(flags['max-in-flight']);
const log = createDirectorLog({ file: null, level: 'error', stderr: false });

class InstantCloud implements Cloud {
  readonly name = 'instant';
  #n = 0;
  info(): Promise<never> {
    return Promise.reject(new Error('not used'));
  }
  call(method: string, args: readonly unknown[]): Promise<unknown> {
    if (method === 'create_vm') return Promise.resolve([`vm-${++this.#n}`, args[3]]);
    if (method === 'create_disk') return Promise.resolve(`disk-${++this.#n}`);
    if (method === 'attach_disk') return Promise.resolve({ path: `/dev/disk/${String(args[1])}` });
    return Promise.resolve(null);
  }
}

function manifestFor(stemcell: string, greeting: string) {
  return {
    name: 'bench',
    releases: [{ name: 'app', version: '1' }],
    stemcells: [{ alias: 'default', os: 'ubuntu-jammy', version: stemcell }],
    update: { canaries: 1, max_in_flight: maxInFlight, canary_watch_time: 1, update_watch_time: 1 },
    instance_groups: [
      {
        name: 'web',
        azs: ['z1', 'z2'],
        instances: n,
        jobs: [{ name: 'server', release: 'app', properties: { greeting } }],
        vm_type: 'small',
        stemcell: 'default',
        persistent_disk: 1024,
        networks: [{ name: 'default' }],
      },
    ],
  };
}

const cloudConfig = compileCloudConfig({
  azs: [{ name: 'z1' }, { name: 'z2' }],
  vm_types: [{ name: 'small', cloud_properties: { cpu: 1 } }],
  networks: [
    {
      name: 'default',
      type: 'manual',
      subnets: [
        { range: '127.40.0.0/20', gateway: '127.40.0.1', az: 'z1' },
        { range: '127.41.0.0/20', gateway: '127.41.0.1', az: 'z2' },
      ],
    },
  ],
});
const available = {
  releases: [{ name: 'app', version: '1' }],
  stemcells: [
    { name: 'refit-ubuntu-jammy', version: '1', operatingSystem: 'ubuntu-jammy' },
    { name: 'refit-ubuntu-jammy', version: '2', operatingSystem: 'ubuntu-jammy' },
  ],
};

interface Row {
  rollout: string;
  wallMs: number;
  cpuMs: number;
  agentCalls: number;
  baselineMs: number;
}

const work = await mkdtemp(join(tmpdir(), 'refit-bench-deploy-'));
const nats = await NatsServer.start(AbortSignal.timeout(10_000));
const responder = spawn(process.execPath, [fileURLToPath(import.meta.url), '--responder', nats.url], {
  stdio: ['ignore', 'pipe', 'inherit'],
});
const rows: Row[] = [];
let renderMsPerInstance = 0;
try {
  await new Promise<void>((resolve, reject) => {
    responder.stdout.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
    responder.once('exit', (code) => reject(new Error(`responder exited ${code}`)));
  });
  const agents = await NatsAgentClient.connect({
    url: `nats://127.0.0.1:${nats.port}`,
    user: nats.user,
    password: nats.password,
    log,
  });
  const db = new SqliteDb(join(work, 'director.db'));
  await runMigrations(db, [coreMigration, ...deploymentsMigrations]);
  const store = new DeploymentStore(db);
  const reservations = new DbIpReservationStore(db);
  await store.ensure('bench');

  let calls = 0;
  const counted: typeof agents = {
    call: (agentId, method, args, options) => {
      calls++;
      return agents.call(agentId, method, args, options);
    },
    waitUntilReady: (agentId, cid, options) => {
      calls++;
      return agents.waitUntilReady(agentId, cid, options);
    },
  } as typeof agents;

  const rollout = async (name: string, stemcell: string, greeting: string) => {
    const started = performance.now();
    const cpu = process.cpuUsage();
    calls = 0;
    const deployment = compileManifest({ manifest: manifestFor(stemcell, greeting), cloudConfig, available });
    const current = await store.instances('bench');
    let plan: DeploymentPlan = planDeployment({
      deployment,
      current: { instances: current, reservations: await reservations.forDeployment('bench') },
      newId: randomUUID,
    });
    const hashes = { packages: 'p1', job: 'j1', configuration: `c-${greeting}` };
    plan = applyRenderedHashes(
      plan,
      new Map(plan.instanceGroups.flatMap((g) => g.instances.map((i) => [i.id, hashes]))),
    );
    await reservations.apply(plan.ipReservations);
    const targets = new Map<string, InstanceTarget>();
    for (const i of plan.instanceGroups.flatMap((g) => g.instances)) {
      if (i.existing === null) await store.createInstance('bench', i);
      targets.set(i.id, {
        plan: i,
        applySpec: {
          deployment: 'bench',
          name: i.group,
          id: i.id,
          index: i.index,
          job: { templates: [] },
          networks: {},
          packages: {},
          persistent_disk: 1024,
          configuration_hash: hashes.configuration,
        },
        hashes,
        stemcellCid: `stemcell-${stemcell}`,
        stemcellApiVersion: 2,
      });
    }
    const deps: UpdaterDeps = {
      deployment: 'bench',
      cloud: new InstantCloud(),
      agents: counted,
      store: store.stateStore('bench'),
      clock: realClock,
      events: new JsonEventLog(() => undefined),
      cpiLog: { write() {} },
      signal: AbortSignal.timeout(600_000),
      newAgentId: randomUUID,
      agentEnv: {},
      record: () => Promise.resolve(),
    };
    await updateDeployment(deps, plan, targets);
    const used = process.cpuUsage(cpu);
    const wallMs = performance.now() - started;
    const agentCalls = calls;
    // Baseline: the same number of agent round trips, bare, with the same parallelism.
    const ids = (await store.instances('bench')).map((i) => i.vm?.agentId ?? '');
    const perInstance = Math.ceil(agentCalls / n);
    const baseStart = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: maxInFlight }, async () => {
        while (next < ids.length) {
          const id = ids[next++] ?? '';
          for (let k = 0; k < perInstance; k++) await agents.call(id, 'ping', []);
        }
      }),
    );
    rows.push({
      rollout: name,
      wallMs,
      cpuMs: (used.user + used.system) / 1000,
      agentCalls,
      baselineMs: performance.now() - baseStart,
    });
  };

  // Template rendering (Preparing deployment): Ruby's ERB in a child process per instance.
  const blobstore = new LocalDirBlobstore(join(work, 'blobs'));
  await blobstore.start();
  const jobSpec = JobManifest.parse({
    name: 'server',
    templates: { 'config.yml.erb': 'config/config.yml', 'ctl.erb': 'bin/ctl' },
    properties: { greeting: { default: 'hi' }, port: { default: 8080 } },
  });
  const sample = Math.min(n, 20);
  const renderStart = performance.now();
  const parallel = Math.max(2, availableParallelism());
  await runPool([...Array(sample).keys()], parallel, async (i) => {
    await renderInstanceTemplates({
      spec: {
        deployment: 'bench',
        name: 'web',
        id: `id-${i}`,
        index: i,
        az: 'z1',
        bootstrap: i === 0,
        address: '127.40.0.2',
        ip: '127.40.0.2',
        networks: {},
        persistentDisk: 1024,
      },
      jobs: [
        {
          jobSpec,
          templates: new Map([
            [
              'config.yml.erb',
              'greeting: <%= p("greeting") %>\nport: <%= p("port") %>\nid: <%= spec.id %>\n',
            ],
            ['ctl.erb', '#!/bin/sh\nexec /var/vcap/packages/server/bin/server --port <%= p("port") %>\n'],
          ]),
          monit: 'check process server\n  with pidfile /var/vcap/sys/run/server/pid\n',
          manifestProperties: { greeting: 'bench' },
          release: { name: 'app', version: '1' },
        },
      ],
      blobstore,
    });
  });
  renderMsPerInstance = (performance.now() - renderStart) / sample;

  await rollout('create', '1', 'a');
  await rollout('in place', '1', 'b');
  await rollout('recreate', '2', 'b');
  await agents.close();
  await db.close();
} finally {
  responder.kill('SIGTERM');
  await nats.stop();
  await rm(work, { recursive: true, force: true });
}

const fmt = (x: number) => x.toFixed(2);
console.log(
  `deploy of ${n} instances, max_in_flight ${maxInFlight} per AZ, 2 AZs, canaries 1, instant CPI and agents (${cpus().length} cores)`,
);
console.log(
  '| rollout | wall s | wall ms/instance | director CPU ms/instance | agent calls/instance | bare NATS baseline s | wall / baseline |',
);
console.log('|---|---|---|---|---|---|---|');
for (const r of rows) {
  console.log(
    `| ${r.rollout} | ${fmt(r.wallMs / 1000)} | ${fmt(r.wallMs / n)} | ${fmt(r.cpuMs / n)} | ${fmt(r.agentCalls / n)} | ${fmt(r.baselineMs / 1000)} | ${fmt(r.wallMs / r.baselineMs)} |`,
  );
}
console.log(
  `\ntemplate rendering (Preparing deployment, one job with 2 templates, Ruby ERB per instance, ${Math.max(2, availableParallelism())} at once as the deploy task does, over ${Math.min(n, 20)} instances): ${fmt(renderMsPerInstance)} ms/instance wall`,
);
console.log(`\nrerun: npx node bench/deploy.ts --instances ${n} --max-in-flight ${maxInFlight}`);
