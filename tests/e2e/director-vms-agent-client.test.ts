// NatsAgentClient against the real refit-agent (its own process, a temp dir as its root) over the
// director's embedded nats-server with its generated users: ping, get_state, async actions
// polled with get_task, exceptions, timeouts with BOSH's retries, wait_until_ready, abort.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect, type NatsConnection } from 'nats';
import { AgentError, AgentTimeoutError } from '../../packages/director/src/agent-client/agent-client.ts';
import { NatsAgentClient } from '../../packages/director/src/agent-client/nats-agent-client.ts';
import { createDirectorLog } from '../../packages/director/src/config/director-log.ts';
import { EmbeddedNatsServer } from '../../packages/director/src/nats/embedded-nats-server.ts';

const agentMain = join(import.meta.dirname, '../../packages/agent/src/main.ts');
const AGENT_ID = 'agent-client-e2e';
const log = createDirectorLog({ file: null, level: 'error', stderr: false });

async function waitFor(
  what: string,
  probe: () => boolean | Promise<boolean>,
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

const alive = (pid: number) => existsSync(`/proc/${pid}`);

describe('NatsAgentClient with the real agent', () => {
  let dir = '';
  let base = '';
  let nats: EmbeddedNatsServer;
  let client: NatsAgentClient;
  let agent: ChildProcess | null = null;
  let agentLog = '';
  let spy: NatsConnection;
  const requestsSeen: { subject: string; method: string }[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'refit-agent-client-'));
    base = join(dir, 'root');
    nats = await EmbeddedNatsServer.start(
      { dir: join(dir, 'nats'), executable: null, port: null, log },
      AbortSignal.timeout(20_000),
    );
    // A job with a pre-start script the tests drive through run_script's env.
    const script = join(base, 'var/vcap/jobs/slow/bin/pre-start');
    await mkdir(dirname(script), { recursive: true });
    await writeFile(
      script,
      `#!/bin/sh\necho $$ > "${dir}/pre-start.pid.tmp" && mv "${dir}/pre-start.pid.tmp" "${dir}/pre-start.pid"\nsleep "\${SLEEP_SECONDS:-0}"\n` +
        `if [ "\${FAIL:-0}" = 1 ]; then echo "boom" >&2; exit 3; fi\necho done > "${dir}/pre-start.done"\n`,
    );
    await chmod(script, 0o755);
    await mkdir(join(base, 'var/vcap/bosh/etc'), { recursive: true });
    await writeFile(join(base, 'var/vcap/bosh/etc/stemcell_version'), '1.0\n');
    await writeFile(
      join(base, 'var/vcap/bosh/spec.json'),
      JSON.stringify({ deployment: 'd', job: { name: 'slow', templates: [{ name: 'slow', version: '1' }] } }),
    );
    const { user, password } = nats.endpoint.agents;
    await writeFile(
      join(dir, 'settings.json'),
      JSON.stringify({
        agent_id: AGENT_ID,
        vm: { name: 'vm-1' },
        mbus: `nats://${user}:${password}@127.0.0.1:${nats.port}`,
        networks: {},
        disks: { persistent: {} },
      }),
    );
    client = await NatsAgentClient.connect({
      url: nats.endpoint.url,
      user: nats.endpoint.director.user,
      password: nats.endpoint.director.password,
      log,
      pollIntervalMs: 100,
    });
    // Sees what the director sends to agents (the agents' user may subscribe agent.*).
    spy = await connect({ servers: `127.0.0.1:${nats.port}`, user, pass: password });
    spy.subscribe('agent.*', {
      callback: (_error, message) => {
        const body = JSON.parse(Buffer.from(message.data).toString()) as { method: string };
        requestsSeen.push({ subject: message.subject, method: body.method });
      },
    });
    await spy.flush();
    agent = spawn(
      process.execPath,
      [agentMain, '--settings', join(dir, 'settings.json'), '--base-dir', base, '--heartbeat-interval', '30'],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    agent.stderr?.on('data', (chunk: Buffer) => (agentLog += chunk.toString()));
  });

  after(async () => {
    if (agent !== null && agent.exitCode === null) {
      const exited = new Promise((resolve) => agent?.once('exit', resolve));
      agent.kill('SIGTERM');
      await Promise.race([exited, sleep(5000)]);
      if (agent.exitCode === null) agent.kill('SIGKILL');
    }
    await spy?.close();
    await client?.close();
    await nats?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('waits until the agent is ready, then pings it', async () => {
    await client.waitUntilReady(AGENT_ID, 'vm-1', { timeoutMs: 20_000, signal: AbortSignal.timeout(30_000) });
    assert.equal(await client.call(AGENT_ID, 'ping', []), 'pong');
    const seen = requestsSeen.find((r) => r.method === 'ping');
    assert.equal(seen?.subject, `agent.${AGENT_ID}`);
  });

  it('answers get_state, parsed', async () => {
    const state = await client.call(AGENT_ID, 'get_state', []);
    assert.equal(state.agent_id, AGENT_ID);
    assert.equal(state.deployment, 'd');
    assert.equal(state.vm.name, 'vm-1');
    assert.equal(state.vitals, undefined);
    const full = await client.call(AGENT_ID, 'get_state', ['full']);
    assert.ok(full.vitals !== undefined, 'full state carries vitals');
  });

  it('follows an async action with get_task until its final value', async () => {
    await rm(join(dir, 'pre-start.done'), { force: true });
    const before = requestsSeen.length;
    const value = await client.call(
      AGENT_ID,
      'run_script',
      ['pre-start', { env: { SLEEP_SECONDS: '0.5' } }],
      {
        signal: AbortSignal.timeout(30_000),
      },
    );
    assert.deepEqual(value, {});
    assert.equal((await readFile(join(dir, 'pre-start.done'), 'utf8')).trim(), 'done');
    const methods = requestsSeen.slice(before).map((r) => r.method);
    assert.equal(methods[0], 'run_script');
    assert.ok(methods.includes('get_task'), `polled with get_task: ${methods.join(',')}`);
  });

  it('turns an agent exception into AgentError with its message', async () => {
    await assert.rejects(
      client.call(AGENT_ID, 'run_script', ['pre-start', { env: { FAIL: '1' } }], {
        signal: AbortSignal.timeout(30_000),
      }),
      (error: unknown) => {
        assert.ok(error instanceof AgentError, String(error));
        assert.equal(error.code, 450001);
        assert.equal(error.method, 'run_script');
        assert.match(error.message, /slow/);
        return true;
      },
    );
    // A synchronous exception too.
    await assert.rejects(client.call(AGENT_ID, 'cancel_task', ['no-such-task']), (error: unknown) => {
      assert.ok(error instanceof AgentError);
      assert.match(error.message, /no-such-task/);
      return true;
    });
  });

  it('times out on a silent agent, retrying get_state twice as BOSH does', async () => {
    const before = requestsSeen.length;
    await assert.rejects(client.call('ghost', 'get_state', [], { replyTimeoutMs: 200 }), (error: unknown) => {
      assert.ok(error instanceof AgentTimeoutError);
      assert.equal(error.code, 450002);
      assert.match(error.message, /Timed out sending 'get_state' to agent 'ghost'/);
      return true;
    });
    await waitFor('the spy to see the requests', () => requestsSeen.length - before >= 3, 5000);
    const sent = requestsSeen.slice(before).filter((r) => r.subject === 'agent.ghost');
    assert.deepEqual(
      sent.map((r) => r.method),
      ['get_state', 'get_state', 'get_state'],
    );
    await assert.rejects(client.call('ghost', 'ping', [], { replyTimeoutMs: 200 }), AgentTimeoutError);
  });

  it('gives up waiting for an agent that never answers, with BOSH message', async () => {
    await assert.rejects(
      client.waitUntilReady('ghost', 'vm-ghost', { timeoutMs: 2000 }),
      (error: unknown) => {
        assert.ok(error instanceof AgentTimeoutError);
        assert.equal(error.message, "Timed out pinging VM 'vm-ghost' with agent 'ghost' after 2 seconds");
        return true;
      },
    );
  });

  it('stops polling on abort and cancels the agent task', async () => {
    await rm(join(dir, 'pre-start.pid'), { force: true });
    const controller = new AbortController();
    const call = client.call(AGENT_ID, 'run_script', ['pre-start', { env: { SLEEP_SECONDS: '60' } }], {
      signal: controller.signal,
    });
    await waitFor('the script to start', () => existsSync(join(dir, 'pre-start.pid')));
    const pid = Number((await readFile(join(dir, 'pre-start.pid'), 'utf8')).trim());
    assert.ok(alive(pid));
    const reason = new Error('task cancelled by the test');
    controller.abort(reason);
    await assert.rejects(call, (error: unknown) => error === reason);
    await waitFor(
      'cancel_task to reach the agent',
      () => requestsSeen.some((r) => r.method === 'cancel_task'),
      5000,
    );
    await waitFor('the agent to kill the script', () => !alive(pid), 15_000);
    // Aborted before sending: nothing is sent.
    const before = requestsSeen.length;
    await assert.rejects(
      client.call(AGENT_ID, 'ping', [], { signal: AbortSignal.abort(reason) }),
      (e) => e === reason,
    );
    await sleep(200);
    // Only the aborted ping matters: a last get_task of the cancelled call may still arrive.
    assert.deepEqual(
      requestsSeen.slice(before).filter((r) => r.method === 'ping'),
      [],
    );
    await assert.rejects(
      client.waitUntilReady('ghost', 'vm-ghost', { signal: AbortSignal.timeout(300), timeoutMs: 60_000 }),
      (error: unknown) => error instanceof DOMException && error.name === 'TimeoutError',
    );
  });

  it('keeps working after nats-server is restarted', async () => {
    const pid = nats.pid;
    assert.ok(pid !== null);
    process.kill(pid, 'SIGKILL');
    await waitFor('nats-server to come back', () => nats.pid !== null && nats.pid !== pid);
    // The agent and the client both reconnect on their own.
    await client.waitUntilReady(AGENT_ID, 'vm-1', { timeoutMs: 30_000 });
    assert.equal(await client.call(AGENT_ID, 'ping', []), 'pong', agentLog);
  });
});
