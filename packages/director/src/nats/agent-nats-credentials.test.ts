import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect, type Msg, type NatsConnection } from 'nats';
import type { CpiInfo } from '@refit/protocol';
import { createDirectorLog } from '../config/director-log.ts';
import { AgentCredentialsCloud } from '../cpi-client/agent-credentials-cloud.ts';
import type { Cloud, CpiCallOptions } from '../cpi-client/cloud.ts';
import { testBackends, type TestDatabase } from '../db/test-databases.ts';
import { AgentNatsCredentials } from './agent-nats-credentials.ts';
import { AgentNatsUserStore, agentNatsUsersMigration } from './agent-nats-users.ts';
import { EmbeddedNatsServer } from './embedded-nats-server.ts';

const log = createDirectorLog({ file: null, level: 'error', stderr: false });
const A = '0a1b2c3d-aaaa-4000-8000-000000000001';
const B = '0a1b2c3d-bbbb-4000-8000-000000000002';

async function waitFor(what: string, probe: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** Records the calls it gets; create_vm answers `vm-<agent id>`. Stands for the CPI process. */
class RecordingCloud implements Cloud {
  readonly name = 'recording';
  readonly calls: { method: string; args: readonly unknown[] }[] = [];
  info(): Promise<CpiInfo> {
    return Promise.reject(new Error('not used'));
  }
  call(method: string, args: readonly unknown[]): Promise<unknown> {
    this.calls.push({ method, args });
    return Promise.resolve(method === 'create_vm' ? `vm-${String(args[0])}` : null);
  }
}

const mbusOf = (args: readonly unknown[]) =>
  new URL((args[5] as { bosh: { mbus: { urls: string[] } } }).bosh.mbus.urls[0] ?? '');

describe('per-agent NATS users on a real nats-server', () => {
  let dir = '';
  let database: TestDatabase;
  let server: EmbeddedNatsServer;
  let cloud: AgentCredentialsCloud;
  const inner = new RecordingCloud();
  const open: NatsConnection[] = [];
  const options: CpiCallOptions = { signal: AbortSignal.timeout(60_000), log: { write: () => {} } };
  const as = async (user: string, pass: string) => {
    const nc = await connect({
      servers: `127.0.0.1:${server.port}`,
      user,
      pass,
      timeout: 10_000,
      reconnect: false,
    });
    open.push(nc);
    return nc;
  };
  const asAgent = (agentId: string) => {
    const call = inner.calls.find((c) => c.method === 'create_vm' && c.args[0] === agentId);
    assert.ok(call, `create_vm for ${agentId}`);
    const url = mbusOf(call.args);
    return as(decodeURIComponent(url.username), decodeURIComponent(url.password));
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'refit-nats-agents-'));
    database = await testBackends()[0]!.create({ migrations: [agentNatsUsersMigration] });
    const store = new AgentNatsUserStore(database.db);
    server = await EmbeddedNatsServer.start(
      { dir, executable: null, port: null, log, agentUsers: () => store.all() },
      AbortSignal.timeout(20_000),
    );
    const credentials = new AgentNatsCredentials({ store, nats: server, url: server.endpoint.url });
    cloud = new AgentCredentialsCloud(inner, credentials);
    for (const agentId of [A, B]) {
      await cloud.call(
        'create_vm',
        [agentId, 'stemcell', {}, {}, [], { bosh: { group: 'd-web' }, other: 1 }],
        options,
      );
    }
  });
  after(async () => {
    for (const nc of open) await nc.close().catch(() => {});
    await server?.stop();
    await database?.cleanup();
    await rm(dir, { recursive: true, force: true });
  });

  it('passes each VM its own user in env.bosh.mbus.urls, keeping the rest of env', () => {
    const [a, b] = inner.calls.filter((c) => c.method === 'create_vm');
    assert.ok(a && b);
    const env = a.args[5] as { bosh: Record<string, unknown>; other: number };
    assert.equal(env.other, 1);
    assert.equal(env.bosh.group, 'd-web');
    const urlA = mbusOf(a.args);
    assert.equal(urlA.username, `agent-${A}`);
    assert.equal(`${urlA.hostname}:${urlA.port}`, `127.0.0.1:${server.port}`);
    assert.notEqual(urlA.password, mbusOf(b.args).password);
    assert.match(urlA.password, /^[0-9a-f]{48}$/);
  });

  it("lets agent A use its own subjects and none of agent B's", async () => {
    const director = await as(server.endpoint.director.user, server.endpoint.director.password);
    const hm = await as(server.endpoint.hm.user, server.endpoint.hm.password);
    const agentA = await asAgent(A);

    // Subscribe: A may listen on agent.A, not on agent.B.
    const heard: string[] = [];
    const subscribeErrors: string[] = [];
    const record = (err: Error | null, msg: Msg) => {
      if (err) subscribeErrors.push(err.message);
      else heard.push(msg.subject);
    };
    agentA.subscribe(`agent.${B}`, { callback: record });
    agentA.subscribe(`agent.${A}`, { callback: record });
    await agentA.flush();
    director.publish(`agent.${B}`, 'for B');
    director.publish(`agent.${A}`, 'for A');
    await director.flush();
    await waitFor('agent A hearing its own request', () => heard.includes(`agent.${A}`));
    assert.deepEqual(heard, [`agent.${A}`]);

    // Publish: A's messages as B never arrive; its own (sent after them) do.
    const got: string[] = [];
    hm.subscribe('hm.agent.heartbeat.*', { callback: (_e, msg) => got.push(msg.subject) });
    director.subscribe('director.>', { callback: (_e, msg) => got.push(msg.subject) });
    await hm.flush();
    await director.flush();
    agentA.publish(`hm.agent.heartbeat.${B}`, '{}');
    agentA.publish(`director.some-uuid.${B}.x`, '{}');
    agentA.publish(`hm.agent.alert.${B}`, '{}');
    agentA.publish(`hm.agent.heartbeat.${A}`, '{}');
    agentA.publish(`director.some-uuid.${A}.x`, '{}');
    await agentA.flush().catch(() => {});
    await waitFor('agent A reaching hm and the director', () => got.length >= 2);
    assert.deepEqual(got.sort(), [`director.some-uuid.${A}.x`, `hm.agent.heartbeat.${A}`]);
    assert.ok(!got.some((s) => s.includes(B)));
  });

  it('keeps the users across a restart and revokes a deleted VM', async () => {
    await server.stop();
    const store = new AgentNatsUserStore(database.db);
    server = await EmbeddedNatsServer.start(
      { dir, executable: null, port: server.port, log, agentUsers: () => store.all() },
      AbortSignal.timeout(20_000),
    );
    cloud = new AgentCredentialsCloud(
      inner,
      new AgentNatsCredentials({ store, nats: server, url: server.endpoint.url }),
    );
    const stillB = await asAgent(B);
    assert.equal(stillB.isClosed(), false);

    await cloud.call('delete_vm', [`vm-${A}`], options);
    await assert.rejects(asAgent(A), /authorization|auth/i);
    assert.deepEqual(
      (await store.all()).map((u) => u.agentId),
      [B],
    );
    // B is untouched by A's removal.
    await asAgent(B);
  });

  it('removes the user when create_vm fails', async () => {
    const store = new AgentNatsUserStore(database.db);
    const failing: Cloud = {
      name: 'failing',
      info: () => Promise.reject(new Error('not used')),
      call: () => Promise.reject(new Error('no VM')),
    };
    const c = new AgentCredentialsCloud(
      failing,
      new AgentNatsCredentials({ store, nats: server, url: server.endpoint.url }),
    );
    const C = '0a1b2c3d-cccc-4000-8000-000000000003';
    await assert.rejects(c.call('create_vm', [C, 's', {}, {}, [], {}], options), /no VM/);
    assert.ok(!(await store.all()).some((u) => u.agentId === C));
  });
});
