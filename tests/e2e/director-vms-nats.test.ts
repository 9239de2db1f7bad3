// The director's bus and blob access for VMs, end to end: the real refit-director with its
// defaults starts nats-server with generated users, writes refit-cpi-local's config with the real
// NATS URL and the agents' blobstore access, serves blobs to agents over HTTPS (the agent's own
// dav client fetches and uploads), restarts nats-server when it dies and stops it when it stops.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect } from 'nats';
import { parse, stringify } from 'yaml';
import { davPath, DavBlobSource, DavOptions } from '../../packages/agent/src/blobstore/dav-blob-source.ts';
import { settingsBlobstore } from '../../packages/agent/src/blobstore/agent-blobstore.ts';
import {
  startDirector,
  type DirectorProcess,
} from '../../packages/director/src/api/director-process.test-support.ts';
import { httpsRequest } from '../../packages/director/src/api/https-test-client.ts';
import { LocalDirBlobstore } from '../../packages/director/src/blobstore/local-dir-blobstore.ts';
import { createDirectorLog } from '../../packages/director/src/config/director-log.ts';
import { EmbeddedNatsServer } from '../../packages/director/src/nats/embedded-nats-server.ts';

interface CpiConfig {
  state_dir: string;
  agent: { mbus: string; blobstore: { provider: string; options: Record<string, unknown> } };
}

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
const natsPid = async (stateDir: string) =>
  Number((await readFile(join(stateDir, 'nats', 'nats-server.pid'), 'utf8').catch(() => '')).trim());
const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

describe('director: NATS and blobs for VMs', () => {
  let stateDir = '';
  let scratch = '';
  let director: DirectorProcess;
  let cpi: CpiConfig;
  let dav: DavOptions;
  const blob = Buffer.from(Array.from({ length: 300_000 }, (_, i) => i % 251));
  const blobId = createHash('sha256').update(blob).digest('hex');

  const agentGet = (path: string, headers: Record<string, string> = {}) =>
    httpsRequest({ port: director.port, ca: director.ca, path, headers });

  before(async () => {
    stateDir = await mkdtemp(join(tmpdir(), 'refit-director-vms-'));
    scratch = await mkdtemp(join(tmpdir(), 'refit-director-vms-scratch-'));
    director = await startDirector({ stateDir });
    cpi = parse(await readFile(join(stateDir, 'cpi-local', 'cpi.yml'), 'utf8')) as CpiConfig;
    dav = DavOptions.parse(cpi.agent.blobstore.options);
  });

  after(async () => {
    if (process.env.REFIT_TEST_DEBUG === '1') process.stderr.write(director?.stderr() ?? '');
    const pid = await natsPid(stateDir);
    await director?.stop();
    if (pid > 0 && alive(pid)) process.kill(pid, 'SIGKILL');
    await rm(stateDir, { recursive: true, force: true });
    await rm(scratch, { recursive: true, force: true });
  });

  it('runs nats-server with credentials before it is ready', async () => {
    const pid = await natsPid(stateDir);
    assert.ok(pid > 0 && alive(pid));
    assert.match(await readFile(`/proc/${pid}/cmdline`, 'utf8'), /nats-server/);
    for (const file of ['nats-server.conf', 'credentials.json']) {
      assert.equal((await stat(join(stateDir, 'nats', file))).mode & 0o777, 0o600, file);
    }
    const mbus = new URL(cpi.agent.mbus);
    assert.equal(mbus.hostname, '127.0.0.1');
    await assert.rejects(connect({ servers: mbus.host, timeout: 2000, reconnect: false }));
    const nc = await connect({
      servers: mbus.host,
      user: mbus.username,
      pass: mbus.password,
      timeout: 10_000,
    });
    await nc.close();
    // No secret in the director's log or output.
    const logText =
      (await readFile(join(stateDir, 'director.log'), 'utf8')) + director.stderr() + director.stdout();
    assert.ok(!logText.includes(mbus.password), 'the agents password is never logged');
    assert.ok(!logText.includes(dav.password ?? 'x'), 'the blob password is never logged');
  });

  it('writes the local CPI config with the real NATS URL and the agents blobstore access', async () => {
    assert.equal((await stat(join(stateDir, 'cpi-local', 'cpi.yml'))).mode & 0o777, 0o600);
    assert.equal(cpi.state_dir, join(stateDir, 'cpi-local', 'state'));
    assert.equal(cpi.agent.blobstore.provider, 'dav');
    assert.equal(dav.endpoint, `https://127.0.0.1:${director.port}/blobs`);
    assert.equal(dav.tls?.cert?.ca, director.ca);
    assert.notEqual(dav.user, director.auth.client);
    assert.notEqual(dav.password, director.auth.secret);
  });

  it('serves a blob of its blobstore to the agents credentials only, with Range', async () => {
    const stored = await new LocalDirBlobstore(join(stateDir, 'blobstore')).put(Readable.from([blob]));
    assert.equal(stored.id, blobId);
    const path = `/blobs/${davPath(blobId)}`;
    // The agent's own dav client and digest check.
    const file = join(scratch, 'fetched');
    const agentStore = settingsBlobstore(() => cpi.agent.blobstore);
    await agentStore.fetch(
      { blobstoreId: blobId, digest: `sha256:${blobId}` },
      file,
      AbortSignal.timeout(10_000),
    );
    assert.ok((await readFile(file)).equals(blob));
    // Not without credentials, not with the admin's, not with a wrong password.
    assert.equal((await agentGet(path)).status, 401);
    assert.equal(
      (await agentGet(path, { Authorization: basic(director.auth.client, director.auth.secret) })).status,
      401,
    );
    assert.equal((await agentGet(path, { Authorization: basic(dav.user ?? '', 'wrong') })).status, 401);
    const auth = { Authorization: basic(dav.user ?? '', dav.password ?? '') };
    const whole = await agentGet(path, auth);
    assert.equal(whole.status, 200);
    assert.equal(whole.headers['accept-ranges'], 'bytes');
    const part = await agentGet(path, { ...auth, Range: 'bytes=1000-1999' });
    assert.equal(part.status, 206);
    assert.equal(part.headers['content-range'], `bytes 1000-1999/${blob.length}`);
    assert.ok(part.body.equals(blob.subarray(1000, 2000)));
    const tail = await agentGet(path, { ...auth, Range: 'bytes=299000-' });
    assert.ok(tail.body.equals(blob.subarray(299_000)));
    const beyond = await agentGet(path, { ...auth, Range: `bytes=${blob.length}-` });
    assert.equal(beyond.status, 416);
    assert.equal(beyond.headers['content-range'], `bytes */${blob.length}`);
    // A stale If-Range gets the whole blob again.
    const stale = await agentGet(path, { ...auth, Range: 'bytes=0-9', 'If-Range': '"other"' });
    assert.equal(stale.status, 200);
    // Unknown blob, and a path whose <hh> does not match the id.
    assert.equal((await agentGet(`/blobs/${davPath('f'.repeat(64))}`, auth)).status, 404);
    assert.equal((await agentGet(`/blobs/zz/${blobId}`, auth)).status, 404);
  });

  it('takes uploads from agents: under a name the agent picks, or its sha256 (verified)', async () => {
    const source = new DavBlobSource(dav);
    const file = join(scratch, 'compiled.tgz');
    const content = Buffer.from('compiled package bytes\n'.repeat(1000));
    await writeFile(file, content);
    const uploaded = await settingsBlobstore(() => cpi.agent.blobstore).upload(
      file,
      AbortSignal.timeout(10_000),
    );
    assert.equal(uploaded.sha1, createHash('sha1').update(content).digest('hex'));
    const back = source.get(uploaded.blobstore_id, AbortSignal.timeout(10_000));
    const chunks: Buffer[] = [];
    for await (const chunk of await back) chunks.push(chunk as Buffer);
    assert.ok(Buffer.concat(chunks).equals(content));
    // The content landed in the content-addressed blobstore.
    const sha256 = createHash('sha256').update(content).digest('hex');
    assert.ok((await new LocalDirBlobstore(join(stateDir, 'blobstore')).stat(sha256)) !== null);

    const auth = { Authorization: basic(dav.user ?? '', dav.password ?? '') };
    const other = Buffer.from('other content');
    const otherId = createHash('sha256').update(other).digest('hex');
    const put = (id: string, body: Buffer) =>
      httpsRequest({
        port: director.port,
        ca: director.ca,
        method: 'PUT',
        path: `/blobs/${davPath(id)}`,
        headers: auth,
        body,
      });
    const mismatch = await put(otherId, content);
    assert.equal(mismatch.status, 400);
    assert.match(mismatch.text, /does not match/);
    assert.equal(await new LocalDirBlobstore(join(stateDir, 'blobstore')).stat(otherId), null);
    assert.equal((await put(otherId, other)).status, 201);
    assert.equal((await put(otherId, other)).status, 204);
    const unauthorized = await httpsRequest({
      port: director.port,
      ca: director.ca,
      method: 'PUT',
      path: `/blobs/${davPath('x-1')}`,
      body: other,
    });
    assert.equal(unauthorized.status, 401);
  });

  it('restarts nats-server when it dies', async () => {
    const pid = await natsPid(stateDir);
    // An empty or missing pid file reads as 0, and kill(0) would SIGKILL this test's own group.
    assert.ok(pid > 0 && alive(pid), `not a live nats-server pid: ${pid}`);
    process.kill(pid, 'SIGKILL');
    await waitFor('a new nats-server', async () => {
      const now = await natsPid(stateDir);
      return now > 0 && now !== pid && alive(now);
    });
    const mbus = new URL(cpi.agent.mbus);
    await waitFor('the new server to take the agents user', async () => {
      try {
        await (
          await connect({
            servers: mbus.host,
            user: mbus.username,
            pass: mbus.password,
            timeout: 1000,
            reconnect: false,
          })
        ).close();
        return true;
      } catch {
        return false;
      }
    });
  });

  it('stops nats-server when it stops, and keeps port and users across a restart', async () => {
    const pid = await natsPid(stateDir);
    assert.ok(alive(pid));
    const result = await director.stop();
    assert.equal(result.code, 0);
    assert.equal(alive(pid), false, 'no nats-server left');
    director = await startDirector({ stateDir, port: director.port });
    const again = parse(await readFile(join(stateDir, 'cpi-local', 'cpi.yml'), 'utf8')) as CpiConfig;
    assert.deepEqual(again.agent, cpi.agent);
    // Killed outright, the director still takes its nats-server with it (parent-death signal).
    const second = await natsPid(stateDir);
    assert.ok(alive(second));
    await director.stop('SIGKILL');
    await waitFor('nats-server to follow the killed director', () => !alive(second), 10_000);
  });
});

describe('director: an existing NATS from the config', () => {
  let dir = '';
  let existing: EmbeddedNatsServer;
  let director: DirectorProcess | null = null;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'refit-director-vms-ext-'));
    const log = createDirectorLog({ file: null, level: 'error', stderr: false });
    existing = await EmbeddedNatsServer.start({
      dir: join(dir, 'existing'),
      executable: null,
      port: null,
      log,
    });
  });
  after(async () => {
    await director?.stop();
    await existing?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('starts no nats-server and hands agents the configured NATS', async () => {
    const { url, director: directorUser, agents } = existing.endpoint;
    const configFile = join(dir, 'director.yml');
    await writeFile(configFile, stringify({ nats: { url, director: directorUser, agents } }));
    const stateDir = join(dir, 'state');
    director = await startDirector({ stateDir, configFile });
    assert.equal(existsSync(join(stateDir, 'nats')), false, 'no embedded server state');
    const cpi = parse(await readFile(join(stateDir, 'cpi-local', 'cpi.yml'), 'utf8')) as CpiConfig;
    const mbus = new URL(cpi.agent.mbus);
    assert.equal(mbus.port, String(existing.port));
    assert.equal(decodeURIComponent(mbus.username), agents.user);
    assert.equal(decodeURIComponent(mbus.password), agents.password);
  });

  it('refuses a url without its users, and embedded keys beside a url', async () => {
    const stateDir = join(dir, 'state-bad');
    for (const [nats, message] of [
      [{ url: existing.endpoint.url }, /with url, director and agents/],
      [
        {
          url: existing.endpoint.url,
          director: existing.endpoint.director,
          agents: existing.endpoint.agents,
          port: 4222,
        },
        /nats\.port: not with nats\.url/,
      ],
    ] as const) {
      const configFile = join(dir, 'bad.yml');
      await writeFile(configFile, stringify({ nats }));
      await assert.rejects(startDirector({ stateDir, configFile }), message);
    }
  });
});
