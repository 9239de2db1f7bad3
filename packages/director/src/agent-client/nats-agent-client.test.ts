// NatsAgentClient's get_task polling over a real nats-server (the director's embedded one): a
// scripted agent on the bus answers an async action with N running get_task answers carrying
// progress, then the final value. The client's waits are recorded by an injected sleep, so the
// schedule is asserted exactly (no timing).
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connect, type NatsConnection } from 'nats';
import { createDirectorLog } from '../config/director-log.ts';
import { EmbeddedNatsServer } from '../nats/embedded-nats-server.ts';
import { NatsAgentClient, pollDelay } from './nats-agent-client.ts';

const log = createDirectorLog({ file: null, level: 'error', stderr: false });

describe('pollDelay', () => {
  it('starts at the first delay and doubles up to the cap', () => {
    assert.deepEqual(
      Array.from({ length: 8 }, (_, i) => pollDelay(i, 50, 1000)),
      [50, 100, 200, 400, 800, 1000, 1000, 1000],
    );
  });
  it('is a fixed interval when the first delay is not below the cap', () => {
    assert.deepEqual(
      Array.from({ length: 3 }, (_, i) => pollDelay(i, 1000, 1000)),
      [1000, 1000, 1000],
    );
    assert.equal(pollDelay(5000, 50, 1000), 1000);
  });
});

describe('NatsAgentClient get_task polling (real nats-server)', () => {
  let dir = '';
  let nats: EmbeddedNatsServer;
  let agent: NatsConnection;
  /** get_task answers still `running` before the final one, per task id. */
  const runningLeft = new Map<string, number>();
  const received: string[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'refit-agent-poll-'));
    nats = await EmbeddedNatsServer.start(
      { dir: join(dir, 'nats'), executable: null, port: null, log },
      AbortSignal.timeout(20_000),
    );
    const { user, password } = nats.endpoint.agents;
    agent = await connect({ servers: `127.0.0.1:${nats.port}`, user, pass: password });
    agent.subscribe('agent.scripted', {
      callback: (_error, message) => {
        const body = JSON.parse(Buffer.from(message.data).toString()) as {
          method: string;
          arguments: unknown[];
          reply_to: string;
        };
        received.push(body.method);
        let value: unknown;
        if (body.method === 'get_task') {
          const id = String(body.arguments[0]);
          const left = runningLeft.get(id) ?? 0;
          runningLeft.set(id, left - 1);
          value =
            left > 0
              ? { agent_task_id: id, state: 'running', progress: { bytes_done: 10 * (7 - left) } }
              : { agent_task_id: id, state: 'done', value: {} };
        } else {
          const id = String(body.arguments[0]);
          value = { agent_task_id: id, state: 'running' };
        }
        agent.publish(body.reply_to, JSON.stringify({ value }));
      },
    });
    await agent.flush();
  });

  after(async () => {
    await agent?.close();
    await nats?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  async function client(options: { pollIntervalMs?: number; pollFirstMs?: number }) {
    const waits: number[] = [];
    const c = await NatsAgentClient.connect({
      url: nats.endpoint.url,
      user: nats.endpoint.director.user,
      password: nats.endpoint.director.password,
      log,
      ...options,
      sleep: (ms, signal) => {
        signal?.throwIfAborted();
        waits.push(ms);
        return Promise.resolve();
      },
    });
    return { c, waits };
  }

  it('polls fast first, doubling up to 1 s, and hands each progress to onProgress', async () => {
    const { c, waits } = await client({});
    try {
      runningLeft.set('task-a', 6);
      const progress: unknown[] = [];
      // The scripted agent takes the first argument as the task id it answers with.
      const value = await c.call('scripted', 'run_script', ['task-a' as 'pre-start', { env: {} }], {
        onProgress: (p) => progress.push(p),
        signal: AbortSignal.timeout(20_000),
      });
      assert.deepEqual(value, {});
      assert.deepEqual(waits, [50, 100, 200, 400, 800, 1000, 1000]);
      assert.deepEqual(
        progress.map((p) => (p as { bytes_done: number }).bytes_done),
        [10, 20, 30, 40, 50, 60],
      );
    } finally {
      await c.close();
    }
  });

  it('keeps a fixed interval when pollFirstMs equals pollIntervalMs', async () => {
    const { c, waits } = await client({ pollIntervalMs: 100, pollFirstMs: 100 });
    try {
      runningLeft.set('task-b', 2);
      await c.call('scripted', 'run_script', ['task-b' as 'pre-start', { env: {} }], {
        signal: AbortSignal.timeout(20_000),
      });
      assert.deepEqual(waits, [100, 100, 100]);
    } finally {
      await c.close();
    }
  });

  it('caps at a configured pollIntervalMs below the default first delay', async () => {
    const { c, waits } = await client({ pollIntervalMs: 20 });
    try {
      runningLeft.set('task-c', 1);
      await c.call('scripted', 'run_script', ['task-c' as 'pre-start', { env: {} }], {
        signal: AbortSignal.timeout(20_000),
      });
      assert.deepEqual(waits, [20, 20]);
    } finally {
      await c.close();
    }
  });

  it('a throwing onProgress does not fail the call', async () => {
    const { c } = await client({});
    try {
      runningLeft.set('task-d', 1);
      const value = await c.call('scripted', 'run_script', ['task-d' as 'pre-start', { env: {} }], {
        onProgress: () => {
          throw new Error('boom');
        },
        signal: AbortSignal.timeout(20_000),
      });
      assert.deepEqual(value, {});
    } finally {
      await c.close();
    }
  });
});
