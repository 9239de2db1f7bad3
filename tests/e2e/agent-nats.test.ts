// refit-agent end to end on the host: a real nats-server with credentials, the agent as its own
// process with a temp dir as its root, job blobs served over real HTTPS by a dav test server.
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connect, type NatsConnection } from 'nats';
import { createTgz } from '../../packages/agent/src/archive/tgz.ts';
import { daemonCtl, exe, writeTree, type Tree } from '../../packages/agent/src/testing/fixture.ts';
import { startDavServer, type DavServer } from '../../packages/agent/src/testing/dav-server.ts';
import { startNatsServer, type NatsServer } from '../../packages/agent/src/testing/nats-server.ts';
import { isAlive, readPidfile } from '../../packages/agent/src/jobs/pid.ts';

const agentMain = join(import.meta.dirname, '../../packages/agent/src/main.ts');
const AGENT_ID = 'e2e-agent-1';

type Envelope = { value?: unknown; exception?: { message: string } };

async function waitFor<T>(
  what: string,
  probe: () => Promise<T | null | undefined | false>,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('refit-agent over NATS', () => {
  let dir: string;
  let base: string;
  let nats: NatsServer;
  let dav: DavServer;
  let agent: ChildProcess;
  let agentLog = '';
  let nc: NatsConnection;
  const heartbeats: Record<string, unknown>[] = [];
  const alerts: { severity: number; title: string }[] = [];

  async function send(payload: string, replyTo: string, timeoutMs = 20_000): Promise<Envelope> {
    const sub = nc.subscribe(replyTo, { max: 1, timeout: timeoutMs });
    nc.publish(`agent.${AGENT_ID}`, payload);
    for await (const m of sub) return JSON.parse(Buffer.from(m.data).toString()) as Envelope;
    throw new Error('no reply');
  }

  const request = (method: string, args: unknown[] = []): Promise<Envelope> => {
    const replyTo = `director.e2e.${AGENT_ID}.${randomUUID()}`;
    return send(JSON.stringify({ protocol: 3, method, arguments: args, reply_to: replyTo }), replyTo);
  };

  /** Sends a request and, for an async action, polls get_task every 100 ms as the director does (every 1 s). */
  async function call(method: string, args: unknown[] = [], timeoutMs = 30_000): Promise<Envelope> {
    const first = await request(method, args);
    const task = first.value as { agent_task_id?: string; state?: string } | undefined;
    if (task?.state !== 'running' || task.agent_task_id === undefined) return first;
    const id = task.agent_task_id;
    return waitFor(
      `${method} task ${id}`,
      async () => {
        const polled = await request('get_task', [id]);
        return (polled.value as { state?: string } | undefined)?.state === 'running' ? null : polled;
      },
      timeoutMs,
    );
  }

  async function putBlob(id: string, tree: Tree): Promise<{ sha1: string; sha256: string }> {
    const src = join(dir, `blob-src-${id}`);
    await writeTree(src, tree);
    const file = join(dir, `blob-${id}.tgz`);
    await createTgz(src, file);
    const bytes = await readFile(file);
    dav.blobs.set(id, bytes);
    return {
      sha1: createHash('sha1').update(bytes).digest('hex'),
      sha256: createHash('sha256').update(bytes).digest('hex'),
    };
  }

  function spawnAgent(): void {
    agent = spawn(
      process.execPath,
      [
        agentMain,
        '--settings',
        join(dir, 'settings.json'),
        '--base-dir',
        base,
        '--heartbeat-interval',
        '1',
        '--supervision-cycle',
        '0.2',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    agent.stderr?.on('data', (c: Buffer) => (agentLog += c.toString()));
  }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'refit-agent-e2e-'));
    base = join(dir, 'root');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    );
    const cert = await readFile(join(dir, 'cert.pem'), 'utf8');
    dav = await startDavServer({
      user: 'agent',
      password: 'dav-pass',
      tls: { key: await readFile(join(dir, 'key.pem'), 'utf8'), cert },
    });
    nats = await startNatsServer('director', 'nats-pass');
    // The booted root, as the stemcell builder writes it.
    await writeTree(base, {
      'var/vcap/bosh/etc/stemcell_version': '7.1\n',
      'etc/os-release': 'ID=debian\nVERSION_ID="12"\nREFIT_STEMCELL_NAME=refit-e2e\n',
    });
    await writeFile(
      join(dir, 'settings.json'),
      JSON.stringify({
        agent_id: AGENT_ID,
        vm: { name: 'vm-e2e' },
        mbus: nats.url,
        networks: { default: { type: 'manual', ip: '127.0.0.10' } },
        disks: { system: '/', ephemeral: '/var/vcap/data', persistent: {} },
        env: {
          bosh: {
            blobstores: [
              {
                provider: 'dav',
                options: {
                  endpoint: dav.endpoint,
                  user: 'agent',
                  password: 'dav-pass',
                  tls: { cert: { ca: cert } },
                },
              },
            ],
          },
        },
      }),
    );
    nc = await connect({ servers: `127.0.0.1:${nats.port}`, user: 'director', pass: 'nats-pass' });
    const alertSub = nc.subscribe(`hm.agent.alert.${AGENT_ID}`);
    void (async () => {
      for await (const m of alertSub)
        alerts.push(JSON.parse(Buffer.from(m.data).toString()) as { severity: number; title: string });
    })();
    const hb = nc.subscribe(`hm.agent.heartbeat.${AGENT_ID}`);
    void (async () => {
      for await (const m of hb)
        heartbeats.push(JSON.parse(Buffer.from(m.data).toString()) as Record<string, unknown>);
    })();
    spawnAgent();
    await waitFor('the first heartbeat', () => Promise.resolve(heartbeats.length > 0));
  });

  after(async () => {
    if (agent.exitCode === null) {
      // Stop supervised processes first so nothing outlives the test.
      await call('stop').catch(() => {});
      const exited = new Promise((r) => agent.once('exit', r));
      agent.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      if (agent.exitCode === null) agent.kill('SIGKILL');
    }
    await nc?.close();
    await nats?.stop();
    await dav?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('heartbeats at start with the booted stemcell, then every interval', async () => {
    const first = heartbeats[0] as {
      job_state: string;
      stemcell: unknown;
      vitals: { mem: { kb: string } };
      job: unknown;
    };
    assert.equal(first.job_state, 'running');
    assert.equal(first.job, null);
    assert.deepEqual(first.stemcell, { version: '7.1', name: 'refit-e2e' });
    assert.match(first.vitals.mem.kb, /^\d+$/);
    const seen = heartbeats.length;
    await waitFor('another heartbeat', () => Promise.resolve(heartbeats.length > seen));
  });

  it('answers ping and get_state', async () => {
    assert.deepEqual(await request('ping'), { value: 'pong' });
    const state = (await request('get_state', ['full'])).value as Record<string, unknown>;
    assert.equal(state['agent_id'], AGENT_ID);
    assert.deepEqual(state['vm'], { name: 'vm-e2e' });
    assert.deepEqual(state['stemcell'], { version: '7.1', name: 'refit-e2e', os: 'debian-12' });
    assert.ok(state['vitals']);
  });

  it('answers bad input with exceptions and keeps serving', async () => {
    const replyTo = `director.e2e.${AGENT_ID}.${randomUUID()}`;
    assert.deepEqual(await send(`{"method":"ping","reply_to":"${replyTo}",,,`, replyTo), {
      exception: { message: 'unknown message ping' },
    });
    nc.publish(`agent.${AGENT_ID}`, 'not even json');
    nc.publish(
      `agent.${AGENT_ID}`,
      JSON.stringify({ method: 'ping', arguments: [], reply_to: 'bad subject *' }),
    );
    assert.deepEqual(await request('make_coffee', []), {
      exception: { message: 'unknown message make_coffee' },
    });
    assert.deepEqual(await request('ping'), { value: 'pong' });
  });

  it('applies a job from HTTPS dav blobs, supervises it, and restarts it after kill -9', async () => {
    const jobs = join(base, 'var/vcap/jobs');
    const pidfile = join(base, 'var/vcap/sys/run/web/web.pid');
    const drainLog = join(dir, 'drain.log');
    const pkg = await putBlob('pkg-1', { 'bin/hello': exe('#!/bin/sh\necho hello\n') });
    const archive = await putBlob('rta-1', {
      'web/bin/ctl': exe(daemonCtl(pidfile)),
      'web/monit': `check process web\n  with pidfile ${pidfile}\n  start program "${jobs}/web/bin/ctl start" with timeout 10 seconds\n  stop program "${jobs}/web/bin/ctl stop"\n  group vcap\n`,
      // Dynamic drain: -1 first (wait 1 s, ask again), then 0.
      'web/bin/drain': exe(
        `#!/bin/sh\necho "$*" >> ${drainLog}\nif [ "$1" = job_check_status ]; then echo 0; else echo -1; fi\n`,
      ),
    });
    const spec = {
      deployment: 'dep',
      job: { name: 'web', templates: [{ name: 'web', version: 'v1' }] },
      index: 0,
      id: 'inst-1',
      networks: { default: { ip: '127.0.0.10' } },
      packages: {
        hello: {
          name: 'hello',
          version: '1',
          sha1: `sha1:${pkg.sha1};sha256:${pkg.sha256}`,
          blobstore_id: 'pkg-1',
        },
      },
      configuration_hash: 'c1',
      persistent_disk: 0,
      rendered_templates_archive: { blobstore_id: 'rta-1', sha1: archive.sha1 },
    };
    assert.deepEqual(await call('apply', [spec]), { value: 'applied' });
    assert.ok(dav.requests.some((r) => r.startsWith('GET /') && r.endsWith('/pkg-1')));
    assert.equal(execFileSync(join(base, 'var/vcap/packages/hello/bin/hello')).toString(), 'hello\n');
    assert.deepEqual(await call('start'), { value: 'started' });
    await waitFor(
      'job running',
      async () => ((await request('get_state')).value as { job_state: string }).job_state === 'running',
    );
    const pid = await readPidfile(pidfile);
    assert.ok(pid !== null && (await isAlive(pid)));

    process.kill(pid, 'SIGKILL');
    const restarted = await waitFor('a restarted process', async () => {
      const p = await readPidfile(pidfile);
      return p !== null && p !== pid && (await isAlive(p)) ? p : null;
    });
    const state = await waitFor('running again', async () => {
      const s = (await request('get_state')).value as {
        job_state: string;
        processes: { name: string; state: string }[];
      };
      return s.job_state === 'running' ? s : null;
    });
    const alert = await waitFor('an alert for the dead process', () =>
      Promise.resolve(alerts.find((a) => a.title.startsWith('web ('))),
    );
    assert.deepEqual(alert && { severity: alert.severity, title: alert.title }, {
      severity: 1,
      title: 'web (127.0.0.10) - Does not exist - restart',
    });
    assert.deepEqual(
      state.processes.map((p) => [p.name, p.state]),
      [['web', 'running']],
    );
    await waitFor('a heartbeat naming the job', () =>
      Promise.resolve(heartbeats.some((h) => h['job'] === 'web' && h['number_of_processes'] === 1)),
    );

    // Drain (shutdown) under BOSH's contract: dynamic, then done; then stop.
    assert.deepEqual(await call('drain', ['shutdown']), { value: 0 });
    assert.deepEqual((await readFile(drainLog, 'utf8')).trim().split('\n'), [
      'job_shutdown hash_unchanged',
      'job_check_status hash_unchanged',
    ]);
    assert.deepEqual(await call('stop'), { value: 'stopped' });
    assert.equal(await isAlive(restarted), false);
    assert.equal(((await request('get_state')).value as { job_state: string }).job_state, 'stopped');
  });

  it('a restarted agent (as after a reboot) takes its running processes back under supervision', async () => {
    const pidfile = join(base, 'var/vcap/sys/run/web/web.pid');
    assert.deepEqual(await call('start'), { value: 'started' });
    await waitFor(
      'job running',
      async () => ((await request('get_state')).value as { job_state: string }).job_state === 'running',
    );
    const pid = await readPidfile(pidfile);
    assert.ok(pid !== null);
    const exited = new Promise((r) => agent.once('exit', r));
    agent.kill('SIGKILL');
    await exited;
    const seen = heartbeats.length;
    spawnAgent();
    await waitFor('a heartbeat from the new agent', () => Promise.resolve(heartbeats.length > seen));
    await waitFor(
      'job running under the new agent',
      async () => ((await request('get_state')).value as { job_state: string }).job_state === 'running',
    );
    assert.equal(await readPidfile(pidfile), pid, 'the running process was adopted, not started again');
    process.kill(pid, 'SIGKILL');
    await waitFor('a process restarted by the new agent', async () => {
      const p = await readPidfile(pidfile);
      return p !== null && p !== pid && (await isAlive(p));
    });
    assert.deepEqual(await call('stop'), { value: 'stopped' });
  });

  it('refuses a blob whose digest does not match before unpacking it', async () => {
    await putBlob('pkg-bad', { 'bin/evil': exe('#!/bin/sh\n') });
    const archive = await putBlob('rta-2', { 'web/monit': '' });
    const outcome = await call('apply', [
      {
        job: { name: 'web', templates: [{ name: 'web', version: 'v2' }] },
        packages: {
          evil: { name: 'evil', version: '1', sha1: `sha256:${'0'.repeat(64)}`, blobstore_id: 'pkg-bad' },
        },
        configuration_hash: 'c2',
        rendered_templates_archive: { blobstore_id: 'rta-2', sha1: archive.sha1 },
      },
    ]);
    assert.match(outcome.exception?.message ?? '', /pkg-bad: sha256 digest mismatch/);
    assert.ok(dav.requests.some((r) => r.endsWith('/pkg-bad')));
    const data = join(base, 'var/vcap/data');
    assert.ok(!(await readdir(join(data, 'packages'))).includes('evil'));
    assert.deepEqual(await readdir(join(data, 'tmp')), []);
  });

  it('fails apply on a monit syntax error, naming the file and line', async () => {
    const archive = await putBlob('rta-3', {
      'web/monit':
        'check process web\n  with pidfile /tmp/x.pid\n  start program "/bin/true"\n  stop program\n',
    });
    const outcome = await call('apply', [
      {
        job: { name: 'web', templates: [{ name: 'web', version: 'v3' }] },
        configuration_hash: 'c3',
        rendered_templates_archive: { blobstore_id: 'rta-3', sha1: archive.sha1 },
      },
    ]);
    assert.match(
      outcome.exception?.message ?? '',
      /var\/vcap\/jobs\/web\/monit:4: monit syntax error: expected a quoted program, found end of file/,
    );
    assert.deepEqual(await request('ping'), { value: 'pong' });
  });
});

describe('refit-agent without NATS credentials', () => {
  it('refuses to start', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'refit-agent-e2e-'));
    try {
      await mkdir(join(dir, 'root'));
      await writeFile(
        join(dir, 'settings.json'),
        JSON.stringify({
          agent_id: 'a',
          vm: { name: 'v' },
          mbus: 'nats://127.0.0.1:4222',
          networks: {},
          disks: {},
        }),
      );
      const child = spawn(
        process.execPath,
        [agentMain, '--settings', join(dir, 'settings.json'), '--base-dir', join(dir, 'root')],
        {
          stdio: ['ignore', 'ignore', 'pipe'],
        },
      );
      let stderr = '';
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      const code = await new Promise<number | null>((resolve) => {
        const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
        child.once('exit', (c) => {
          clearTimeout(timer);
          resolve(c);
        });
      });
      assert.equal(code, 1);
      assert.match(stderr, /mbus URL carries no user:password; refit-agent never connects to an open server/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
