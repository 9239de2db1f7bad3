import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect, type NatsConnection } from 'nats';
import { createDirectorLog } from '../config/director-log.ts';
import { EmbeddedNatsServer } from './embedded-nats-server.ts';

const log = createDirectorLog({ file: null, level: 'error', stderr: false });

async function waitFor(
  what: string,
  probe: () => boolean | Promise<boolean>,
  timeoutMs = 15_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** True when `subject` published by `from` reaches a subscriber `to` on `pattern`. */
async function delivered(
  from: NatsConnection,
  to: NatsConnection,
  pattern: string,
  subject: string,
  expected: boolean,
): Promise<boolean> {
  // A delivery that must happen gets 10 s (nats-server is another process on a loaded machine);
  // one that must not happen would have arrived before `from.flush()` returned: 0.5 s suffices.
  const sub = to.subscribe(pattern, { max: 1, timeout: expected ? 10_000 : 500 });
  await to.flush();
  from.publish(subject, 'x');
  await from.flush().catch(() => {});
  try {
    for await (const message of sub) return message.subject === subject;
  } catch {
    return false;
  }
  return false;
}

describe('EmbeddedNatsServer', () => {
  let dir = '';
  let server: EmbeddedNatsServer;
  const open: NatsConnection[] = [];
  const as = async (who: { user: string; password: string }) => {
    const nc = await connect({
      servers: `127.0.0.1:${server.port}`,
      user: who.user,
      pass: who.password,
      timeout: 10_000,
    });
    open.push(nc);
    return nc;
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'refit-nats-'));
    server = await EmbeddedNatsServer.start(
      { dir, executable: null, port: null, log },
      AbortSignal.timeout(20_000),
    );
  });
  after(async () => {
    for (const nc of open) await nc.close().catch(() => {});
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps its config and credentials private and records the port', async () => {
    assert.equal((await stat(join(dir, 'nats-server.conf'))).mode & 0o777, 0o600);
    assert.equal((await stat(join(dir, 'credentials.json'))).mode & 0o777, 0o600);
    const recorded = JSON.parse(await readFile(join(dir, 'credentials.json'), 'utf8')) as { port: number };
    assert.equal(recorded.port, server.port);
    assert.equal(server.endpoint.url, `nats://127.0.0.1:${server.port}`);
  });

  it('refuses connections without credentials or with wrong ones', async () => {
    await assert.rejects(connect({ servers: `127.0.0.1:${server.port}`, timeout: 2000, reconnect: false }));
    await assert.rejects(
      connect({
        servers: `127.0.0.1:${server.port}`,
        user: 'agent',
        pass: 'wrong',
        timeout: 2000,
        reconnect: false,
      }),
    );
  });

  it('gives each user BOSH permissions', async () => {
    const director = await as(server.endpoint.director);
    const agent = await as(server.endpoint.agents);
    const hm = await as(server.endpoint.hm);
    assert.equal(await delivered(director, agent, 'agent.a1', 'agent.a1', true), true);
    assert.equal(await delivered(agent, director, 'director.>', 'director.u1.a1.r1', true), true);
    assert.equal(await delivered(agent, hm, 'hm.agent.heartbeat.*', 'hm.agent.heartbeat.a1', true), true);
    // The agents' user can neither read the director's replies nor publish requests to agents.
    const spy = await as(server.endpoint.agents);
    assert.equal(await delivered(agent, spy, 'director.>', 'director.u1.a1.r2', false), false);
    assert.equal(await delivered(spy, agent, 'agent.a1', 'agent.a1', false), false);
    // The health monitor only listens.
    assert.equal(await delivered(hm, agent, 'agent.a1', 'agent.a1', false), false);
  });

  it('is restarted when it dies, on the same port with the same users', async () => {
    const before = server.pid;
    assert.ok(before !== null);
    process.kill(before, 'SIGKILL');
    await waitFor('a new nats-server', () => server.pid !== null && server.pid !== before);
    assert.equal(server.restarts, 1);
    await waitFor('the restarted server to accept the director', async () => {
      try {
        await (await as(server.endpoint.director)).close();
        return true;
      } catch {
        return false;
      }
    });
  });

  it('stops for good: no process left', async () => {
    const pid = server.pid;
    assert.ok(pid !== null);
    await server.stop();
    assert.equal(existsSync(`/proc/${pid}`), false);
    await sleep(300);
    assert.equal(server.pid, null);
  });
});
