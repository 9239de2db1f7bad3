import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ErrorBody, Info } from '@refit/protocol';
import {
  directorBackends,
  freePort,
  runDirectorExpectingFailure,
  startDirector,
  type DirectorProcess,
} from '../../packages/director/src/api/director-process.test-support.ts';
import { httpsRequest } from '../../packages/director/src/api/https-test-client.ts';
import { createTlsMaterial } from '../../packages/director/src/api/tls-material.ts';
import { defaultCpi } from '../../packages/director/src/config/director-config.ts';

/** Every authenticated route of the core, plus a few of the features'. */
const PROTECTED: readonly [string, string][] = [
  ['GET', '/tasks'],
  ['GET', '/tasks/1'],
  ['GET', '/tasks/1/output?type=event'],
  ['DELETE', '/task/1'],
  ['POST', '/tasks/cancel'],
  ['GET', '/locks'],
  ['GET', '/events'],
  ['GET', '/configs'],
  ['POST', '/configs'],
  ['DELETE', '/configs?type=cloud&name=default'],
  ['POST', '/configs/diff'],
  ['GET', '/cloud_configs?limit=1'],
  ['POST', '/cloud_configs'],
  ['POST', '/cloud_configs/diff'],
  ['GET', '/stemcells'],
  ['GET', '/no/such/route'],
];

for (const backend of directorBackends()) {
  describe(`director core API (${backend.name})`, { skip: backend.skip }, () => {
    let env: Awaited<ReturnType<typeof backend.setup>>;
    let director: DirectorProcess;
    before(async () => {
      env = await backend.setup();
      director = await startDirector({
        stateDir: env.stateDir,
        ...(env.configFile === undefined ? {} : { configFile: env.configFile }),
      });
    });
    after(async () => {
      await director?.stop();
      await env?.cleanup();
    });

    it('prints exactly one ready line on stdout', () => {
      assert.equal(director.stdout(), `director ready: https://127.0.0.1:${director.port}\n`);
    });

    it('writes ca.pem and credentials.json (0600) in the state dir', async () => {
      const mode = (await stat(join(env.stateDir, 'credentials.json'))).mode & 0o777;
      assert.equal(mode, 0o600);
      assert.equal(director.auth.client, 'admin');
      assert.ok(director.auth.secret.length >= 20);
      assert.match(director.ca, /^-----BEGIN CERTIFICATE-----/);
    });

    it('serves GET /info without credentials, verified against ca.pem by IP and by name', async () => {
      const anonymous = await director.request({ path: '/info', anonymous: true });
      assert.equal(anonymous.status, 200);
      const info = Info.parse(anonymous.json());
      assert.equal(info.user, null);
      assert.equal(info.name, 'refit');
      // The default CPI: the local CPI once it is built, else testkit's test CPI.
      assert.equal(info.cpi, defaultCpi(resolve(import.meta.dirname, '../..')).name);
      assert.match(info.uuid, /^[0-9a-f-]{36}$/);
      const named = await httpsRequest({
        port: director.port,
        ca: director.ca,
        path: '/info',
        host: 'localhost',
      });
      assert.equal(named.status, 200);
      const authed = Info.parse((await director.request({ path: '/info' })).json());
      assert.equal(authed.user, 'admin');
    });

    it('is refused by a client that trusts another CA', async () => {
      const other = (await createTlsMaterial()).caPem;
      await assert.rejects(httpsRequest({ port: director.port, ca: other, path: '/info' }));
    });

    it("answers 401 with BOSH's shape on every other route, without or with wrong credentials", async () => {
      for (const [method, path] of PROTECTED) {
        for (const attempt of ['none', 'wrong'] as const) {
          const response = await director.request({
            method,
            path,
            ...(attempt === 'none' ? { anonymous: true } : { auth: { client: 'admin', secret: 'wrong' } }),
          });
          assert.equal(response.status, 401, `${method} ${path} (${attempt})`);
          assert.equal(response.headers['www-authenticate'], 'Basic realm="BOSH Director"');
          assert.equal(response.text, `Not authorized: '${path.split('?')[0]}'\n`);
        }
      }
    });

    it("answers an unknown route with 404 `Endpoint '<path>' not found.`", async () => {
      const response = await director.request({ path: '/no/such/route' });
      assert.equal(response.status, 404);
      assert.equal(response.text, "Endpoint '/no/such/route' not found.");
    });

    it('answers an unknown task 404 with code 10000', async () => {
      for (const path of ['/tasks/424242', '/tasks/424242/output?type=event', '/tasks/abc']) {
        const response = await director.request({ path });
        assert.equal(response.status, 404, path);
        const body = ErrorBody.parse(response.json());
        assert.equal(body.code, 10000);
      }
      assert.deepEqual((await director.request({ path: '/tasks/424242' })).json(), {
        code: 10000,
        description: 'Task 424242 not found',
      });
      assert.equal((await director.request({ method: 'DELETE', path: '/task/424242' })).status, 404);
    });

    it('never writes the admin secret to its log or its output', async () => {
      await director.request({ path: '/tasks', auth: { client: 'admin', secret: 'wrong-secret' } });
      const log = await readFile(join(env.stateDir, 'director.log'), 'utf8');
      assert.ok(log.length > 0);
      for (const text of [log, director.stderr(), director.stdout()]) {
        assert.ok(!text.includes(director.auth.secret));
        assert.ok(!text.includes('wrong-secret'));
        assert.ok(!text.includes(Buffer.from(`admin:${director.auth.secret}`).toString('base64')));
      }
    });

    it('keeps its CA, credentials and uuid across a restart (SIGTERM exits 0)', async () => {
      const uuid = Info.parse((await director.request({ path: '/info' })).json()).uuid;
      const before = { ca: director.ca, auth: director.auth };
      assert.deepEqual(await director.stop(), { code: 0, signal: null });
      director = await startDirector({
        stateDir: env.stateDir,
        ...(env.configFile === undefined ? {} : { configFile: env.configFile }),
      });
      assert.equal(director.ca, before.ca);
      assert.deepEqual(director.auth, before.auth);
      assert.equal(Info.parse((await director.request({ path: '/info' })).json()).uuid, uuid);
    });
  });
}

describe('director config errors', () => {
  it('names the file and the bad key, and exits 2 without serving', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'refit-e2e-config-'));
    try {
      const file = join(dir, 'config.yml');
      await writeFile(file, 'db:\n  url: 5\nworkers: 2\n');
      const bad = await runDirectorExpectingFailure(['--state-dir', join(dir, 'state'), '--config', file]);
      assert.equal(bad.code, 2);
      assert.equal(bad.stdout, '');
      assert.match(bad.stderr, /config\.yml: db\.url: expected string/);
      await writeFile(file, 'cpi:\n  executable: /bin/true\n  colour: red\n');
      const unknown = await runDirectorExpectingFailure([
        '--state-dir',
        join(dir, 'state'),
        '--config',
        file,
      ]);
      assert.match(unknown.stderr, /config\.yml: cpi\.colour: unknown key/);
      const usage = await runDirectorExpectingFailure(['--port', '1']);
      assert.equal(usage.code, 2);
      assert.match(usage.stderr, /--state-dir is required/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('the director test harness', () => {
  it('starts the director again on another port when the one it picked was taken meanwhile', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'refit-e2e-port-'));
    // What another suite of the other lane may do between our pick and the director's bind.
    const squatter = createServer();
    await new Promise<void>((ok) => squatter.listen(0, '127.0.0.1', ok));
    const taken = (squatter.address() as { port: number }).port;
    const picks = [taken];
    let director: DirectorProcess | undefined;
    try {
      director = await startDirector({
        stateDir: join(dir, 'state'),
        pickPort: () => Promise.resolve(picks.shift() ?? freePort()),
      });
      assert.equal(picks.length, 0, 'the taken port was tried first');
      assert.notEqual(director.port, taken);
      assert.equal((await director.request({ path: '/info', anonymous: true })).status, 200);
    } finally {
      await director?.stop();
      await new Promise<void>((ok) => squatter.close(() => ok()));
      await rm(dir, { recursive: true, force: true });
    }
  });
});
