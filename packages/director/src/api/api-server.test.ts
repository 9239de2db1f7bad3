import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Info } from '@refit/protocol';
import { z } from 'zod';
import { silentLog } from '../config/director-log.ts';
import { StemcellNotFound } from '../errors.ts';
import { RequestContextStore } from '../tasks/request-context.ts';
import { createApiServer } from './api-server.ts';
import { readJson } from './body.ts';
import { httpsRequest } from './https-test-client.ts';
import { infoRoute } from './info-route.ts';
import type { Route } from './route.ts';
import { createTlsMaterial } from './tls-material.ts';

const credentials = { client: 'admin', client_secret: 's3cret' };
const auth = { client: 'admin', secret: 's3cret' };

describe('API server', () => {
  const requests = new RequestContextStore();
  const seen: { contextId: string | undefined; user: string }[] = [];
  const routes: Route[] = [
    infoRoute({ name: 'refit', uuid: 'u-1', version: '0.1.0 (00000000)', cpi: 'test-cpi' }),
    {
      method: 'GET',
      path: '/stemcells/:name/:version',
      handle: (r) => Promise.resolve({ kind: 'json', body: { ...r.params, user: r.user } }),
    },
    {
      method: 'POST',
      path: '/tasks/cancel',
      handle: () => Promise.resolve({ kind: 'empty', status: 204 }),
    },
    {
      method: 'POST',
      path: '/tasks/:id',
      handle: () => Promise.resolve({ kind: 'text', body: 'param route' }),
    },
    {
      method: 'POST',
      path: '/echo',
      handle: async (r) => ({
        kind: 'json',
        status: 201,
        body: await readJson(r, z.object({ n: z.number() })),
      }),
    },
    {
      method: 'POST',
      path: '/enqueue',
      handle: (r) => {
        seen.push({ contextId: requests.current()?.contextId, user: r.user });
        return Promise.resolve({ kind: 'task', taskId: 42 });
      },
    },
    {
      method: 'GET',
      path: '/missing',
      handle: () => Promise.reject(new StemcellNotFound("Stemcell 'x/1' doesn't exist")),
    },
    { method: 'GET', path: '/boom', handle: () => Promise.reject(new Error('secret internals')) },
  ];
  let port = 0;
  let ca = '';
  const server = { close: () => undefined as unknown };
  before(async () => {
    const tls = await createTlsMaterial();
    ca = tls.caPem;
    const https = createApiServer({ routes, tls, credentials, log: silentLog, requests });
    await new Promise<void>((resolve) => https.listen(0, '127.0.0.1', resolve));
    port = (https.address() as AddressInfo).port;
    server.close = () => https.close();
  });
  after(() => server.close());

  it('serves GET /info without credentials, user null; with them, user set', async () => {
    const anonymous = await httpsRequest({ port, ca, path: '/info' });
    assert.equal(anonymous.status, 200);
    const info = Info.parse(anonymous.json());
    assert.equal(info.user, null);
    assert.equal(info.user_authentication.type, 'basic');
    assert.equal(info.cpi, 'test-cpi');
    assert.equal(info.features.snapshots?.status, false);
    const wrong = await httpsRequest({ port, ca, path: '/info', auth: { client: 'admin', secret: 'nope' } });
    assert.equal(Info.parse(wrong.json()).user, null);
    const known = await httpsRequest({ port, ca, path: '/info', auth });
    assert.equal(Info.parse(known.json()).user, 'admin');
  });

  it('verifies against the CA for the DNS name localhost too', async () => {
    const viaName = await httpsRequest({ port, ca, path: '/info', host: 'localhost' });
    assert.equal(viaName.status, 200);
    await assert.rejects(
      httpsRequest({ port, ca: (await createTlsMaterial()).caPem, path: '/info' }),
      /certificate/,
    );
  });

  it("answers 401 with BOSH's shape for missing or wrong credentials, even on unknown paths", async () => {
    for (const attempt of [
      undefined,
      { client: 'admin', secret: 'wrong' },
      { client: 'root', secret: 's3cret' },
    ]) {
      for (const path of ['/stemcells/a/1', '/nowhere']) {
        const response = await httpsRequest({
          port,
          ca,
          path,
          ...(attempt === undefined ? {} : { auth: attempt }),
        });
        assert.equal(response.status, 401);
        assert.equal(response.headers['www-authenticate'], 'Basic realm="BOSH Director"');
        assert.equal(response.text, `Not authorized: '${path}'\n`);
      }
    }
  });

  it('matches path parameters (decoded) and prefers literal segments', async () => {
    const response = await httpsRequest({ port, ca, path: '/stemcells/ubuntu%2Fjammy/1.5', auth });
    assert.deepEqual(response.json(), { name: 'ubuntu/jammy', version: '1.5', user: 'admin' });
    const literal = await httpsRequest({ port, ca, method: 'POST', path: '/tasks/cancel', auth });
    assert.equal(literal.status, 204);
    const param = await httpsRequest({ port, ca, method: 'POST', path: '/tasks/7', auth });
    assert.equal(param.text, 'param route');
  });

  it("answers unknown routes 404 `Endpoint '<path>' not found.`", async () => {
    const response = await httpsRequest({ port, ca, path: '/nowhere?x=1', auth });
    assert.equal(response.status, 404);
    assert.equal(response.text, "Endpoint '/nowhere' not found.");
    const wrongMethod = await httpsRequest({ port, ca, method: 'DELETE', path: '/info', auth });
    assert.equal(wrongMethod.status, 404);
  });

  it('maps director errors to status + {code, description}, others to an empty 500', async () => {
    const missing = await httpsRequest({ port, ca, path: '/missing', auth });
    assert.equal(missing.status, 404);
    assert.deepEqual(missing.json(), { code: 50003, description: "Stemcell 'x/1' doesn't exist" });
    const boom = await httpsRequest({ port, ca, path: '/boom', auth });
    assert.equal(boom.status, 500);
    assert.equal(boom.text, '');
  });

  it('validates JSON bodies into 400s naming the field', async () => {
    const ok = await httpsRequest({ port, ca, method: 'POST', path: '/echo', auth, body: '{"n":1}' });
    assert.equal(ok.status, 201);
    assert.deepEqual(ok.json(), { n: 1 });
    const bad = await httpsRequest({ port, ca, method: 'POST', path: '/echo', auth, body: '{"n":"one"}' });
    assert.equal(bad.status, 400);
    assert.equal(bad.json<{ code: number }>().code, 40000);
    assert.match(bad.json<{ description: string }>().description, /^Invalid request body: n: /);
    const notJson = await httpsRequest({ port, ca, method: 'POST', path: '/echo', auth, body: '{' });
    assert.equal(notJson.status, 400);
    const huge = await httpsRequest({
      port,
      ca,
      method: 'POST',
      path: '/echo',
      auth,
      body: ' '.repeat(2 * 1024 * 1024),
    });
    assert.equal(huge.status, 400);
  });

  it('redirects task replies and carries X-Bosh-Context-Id to the handler (64 chars at most)', async () => {
    const response = await httpsRequest({
      port,
      ca,
      method: 'POST',
      path: '/enqueue',
      auth,
      headers: { 'X-Bosh-Context-Id': 'ctx-42' },
    });
    assert.equal(response.status, 302);
    assert.equal(response.headers.location, '/tasks/42');
    assert.deepEqual(seen.at(-1), { contextId: 'ctx-42', user: 'admin' });
    const tooLong = await httpsRequest({
      port,
      ca,
      method: 'POST',
      path: '/enqueue',
      auth,
      headers: { 'X-Bosh-Context-Id': 'x'.repeat(65) },
    });
    assert.equal(tooLong.status, 400);
    assert.equal(tooLong.json<{ code: number }>().code, 70010);
    assert.equal(seen.length, 1);
  });
});
