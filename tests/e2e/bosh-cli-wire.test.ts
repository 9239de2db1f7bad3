// The stock Go `bosh` CLI v7 cannot be installed on these machines (no Go toolchain, no route to
// its releases), so this test replays the exact requests the CLI sends (reference
// bosh-cli-observed.md) and decodes the answers as strictly as Go's encoding/json does with the
// CLI's structs: a wrong JSON type here is a CLI that fails there.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createGzip } from 'node:zlib';
import { createHash } from 'node:crypto';
import { pack } from 'tar-stream';
import { z } from 'zod';
import { createTestCpi } from '@refit/testkit/cpi/test-cpi-fixture.ts';
import {
  DIRECTOR_BIN,
  spawnDirector,
} from '../../packages/director/src/api/director-process.test-support.ts';

// Go-strict shapes: what the CLI's structs accept (bosh-cli-observed.md, "Response shapes").
const nullableInt = z.number().int().nullable().optional();
const GoInfo = z.object({
  name: z.string().optional(),
  uuid: z.string().optional(),
  version: z.string().optional(),
  user: z.string().nullable().optional(),
  cpi: z.string().optional(),
  user_authentication: z.object({ type: z.string(), options: z.record(z.string(), z.unknown()) }).optional(),
  features: z.record(z.string(), z.object({ status: z.boolean() }).passthrough()).optional(),
});
const GoTask = z.object({
  id: z.number().int(),
  state: z.string(),
  description: z.string().optional(),
  timestamp: nullableInt,
  started_at: nullableInt,
  result: z.string().nullable().optional(),
  user: z.string().optional(),
  deployment: z.string().nullable().optional(),
  context_id: z.string().optional(),
});
const GoStemcell = z.object({
  name: z.string().optional(),
  operating_system: z.string().optional(),
  version: z.string().min(1),
  cid: z.string().optional(),
  cpi: z.string().optional(),
  deployments: z.array(z.unknown()).optional(),
});
const GoLock = z.object({
  type: z.string(),
  resource: z.array(z.string()),
  timeout: z.string(),
  task_id: z.string(),
});
const GoEvent = z.object({
  id: z.string(),
  timestamp: z.number().int(),
  user: z.string(),
  action: z.string(),
  object_type: z.string(),
  object_name: z.string().nullable(),
  task: z.string().nullable(),
  deployment: z.string().nullable(),
  instance: z.string().nullable(),
  context: z.record(z.string(), z.unknown()).nullable(),
  error: z.string().nullable(),
});
const GoEventLine = z.object({
  time: z.number().int(),
  stage: z.string().optional(),
  tags: z.array(z.string()).nullable().optional(),
  total: z.number().int().nullable().optional(),
  task: z.string().optional(),
  index: z.number().int().optional(),
  state: z.string().optional(),
  progress: z.number().int().optional(),
  error: z.object({ code: z.number().int(), message: z.string() }).optional(),
});

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

let director: ChildProcess;
let stateDir: string;
let port: number;
let ca: string;
let auth: string;

function call(
  method: string,
  path: string,
  options: { body?: Buffer | string; headers?: Record<string, string>; anonymous?: boolean } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = {
      Connection: 'close',
      'User-Agent': 'Go-http-client/1.1',
      ...options.headers,
    };
    if (!options.anonymous) headers.Authorization = auth;
    if (options.body !== undefined) headers['Content-Length'] = String(Buffer.byteLength(options.body));
    const req = request({ host: '127.0.0.1', port, method, path, headers, ca, timeout: 10_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString(),
        }),
      );
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${path} timed out`)));
    req.on('error', reject);
    req.end(options.body);
  });
}

/** The CLI's task follow loop: state, then event output with Range; 416 means nothing new. */
async function followTask(location: string): Promise<{ task: z.infer<typeof GoTask>; events: string }> {
  const deadline = Date.now() + 30_000;
  let offset = 0;
  let events = '';
  for (;;) {
    const state = await call('GET', location);
    assert.equal(state.status, 200);
    const task = GoTask.parse(JSON.parse(state.body));
    const out = await call('GET', `${location}/output?type=event`, {
      headers: { Range: `bytes=${offset}-` },
    });
    assert.ok([200, 204, 206, 416].includes(out.status), `event output status ${out.status}`);
    if (out.status === 206 || out.status === 200) {
      events += out.body;
      offset += Buffer.byteLength(out.body);
    }
    if (!['queued', 'processing', 'cancelling'].includes(task.state)) return { task, events };
    assert.ok(Date.now() < deadline, `task ${location} still ${task.state} after 30 s`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function stemcellTarball(name: string, version: string): Promise<Buffer> {
  const image = Buffer.from('not a real image, the test CPI only copies it\n');
  const manifest = [
    `name: ${name}`,
    `version: '${version}'`,
    'operating_system: refit-test',
    `sha1: ${createHash('sha1').update(image).digest('hex')}`,
    'api_version: 3',
    'cloud_properties: {}',
    '',
  ].join('\n');
  const archive = pack();
  archive.entry({ name: 'stemcell.MF' }, manifest);
  archive.entry({ name: 'image' }, image);
  archive.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of archive.pipe(createGzip())) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

describe('the requests of the stock bosh CLI v7', { timeout: 120_000 }, () => {
  before(async () => {
    stateDir = mkdtempSync(join(tmpdir(), 'refit-wire-'));
    // This test is about the HTTP surface, so it uses the small test CPI rather than VMs, with
    // its state in this suite's dir (without --config it would share $TMPDIR/refit-test-cpi).
    const cpi = await createTestCpi(join(stateDir, 'cpi'));
    const config = join(stateDir, 'director.yml');
    writeFileSync(
      config,
      `cpi: ${JSON.stringify({ name: 'test-cpi', executable: cpi.command, args: cpi.args })}\n`,
    );
    // spawnDirector picks the port, and another if it was taken before the director bound it.
    const spawned = await spawnDirector({
      command: DIRECTOR_BIN,
      stateDir: join(stateDir, 'state'),
      configFile: config,
    });
    director = spawned.child;
    port = spawned.port;
    ca = spawned.ca;
    auth = `Basic ${Buffer.from(`${spawned.auth.client}:${spawned.auth.secret}`).toString('base64')}`;
  });
  after(() => {
    director?.kill('SIGKILL');
    rmSync(stateDir, { recursive: true, force: true });
  });

  it('bosh env / log-in: anonymous GET /info, then GET /info with Basic auth naming the user', async () => {
    const anonymous = await call('GET', '/info', { anonymous: true });
    assert.equal(anonymous.status, 200);
    const info = GoInfo.parse(JSON.parse(anonymous.body));
    assert.equal(info.user ?? null, null);
    assert.equal(info.user_authentication?.type, 'basic');
    const authenticated = GoInfo.parse(JSON.parse((await call('GET', '/info')).body));
    assert.equal(authenticated.user, 'admin');
  });

  it('every other route answers 401 with the realm and body BOSH gives', async () => {
    for (const path of ['/stemcells', '/tasks', '/locks', '/events', '/cloud_configs?limit=1&name=']) {
      const reply = await call('GET', path, { anonymous: true });
      assert.equal(reply.status, 401, path);
      assert.equal(reply.headers['www-authenticate'], 'Basic realm="BOSH Director"');
      assert.equal(reply.body, `Not authorized: '${path.split('?')[0]}'\n`);
    }
    const wrong = await call('GET', '/stemcells', {
      anonymous: true,
      headers: { Authorization: 'Basic YWRtaW46bm9wZQ==' },
    });
    assert.equal(wrong.status, 401);
  });

  it('bosh update-cloud-config then bosh cloud-config', async () => {
    const yaml = 'azs:\n- name: z1\nvm_types:\n- name: default\n';
    const diff = await call('POST', '/cloud_configs/diff?name=default', {
      body: yaml,
      headers: { 'Content-Type': 'text/yaml' },
    });
    assert.ok(diff.status === 200 || diff.status === 404, `diff status ${diff.status}`);
    if (diff.status === 200) {
      const parsed = z
        .object({ diff: z.array(z.tuple([z.string(), z.string().nullable()])) })
        .parse(JSON.parse(diff.body));
      assert.ok(parsed.diff.some(([line, kind]) => line.includes('z1') && kind === 'added'));
    }
    const created = await call('POST', '/cloud_configs?name=default', {
      body: yaml,
      headers: { 'Content-Type': 'text/yaml' },
    });
    assert.equal(created.status, 201);
    const listed = await call('GET', '/cloud_configs?limit=1&name=');
    const configs = z
      .array(z.object({ properties: z.string(), created_at: z.string() }))
      .parse(JSON.parse(listed.body));
    assert.equal(configs[0]?.properties, yaml);
  });

  it('bosh upload-stemcell FILE, bosh stemcells, bosh delete-stemcell', async () => {
    const needed = await call('POST', '/stemcell_uploads', {
      body: JSON.stringify({ stemcell: { name: 'wire-stemcell', version: '1.1' } }),
      headers: { 'Content-Type': 'application/json' },
    });
    assert.deepEqual(JSON.parse(needed.body), { needed: true });
    const upload = await call('POST', '/stemcells', {
      body: await stemcellTarball('wire-stemcell', '1.1'),
      headers: { 'Content-Type': 'application/x-compressed' },
    });
    assert.equal(upload.status, 302);
    const location = String(upload.headers.location);
    assert.match(location, /\/tasks\/\d+$/);
    const { task, events } = await followTask(new URL(location, `https://127.0.0.1:${port}`).pathname);
    assert.equal(task.state, 'done', events);
    for (const line of events.split('\n').filter((l) => l !== '')) GoEventLine.parse(JSON.parse(line));
    const result = await call('GET', `/tasks/${task.id}/output?type=result`);
    assert.ok([200, 204].includes(result.status));

    const stemcells = z.array(GoStemcell).parse(JSON.parse((await call('GET', '/stemcells')).body));
    assert.ok(stemcells.some((s) => s.name === 'wire-stemcell' && s.version === '1.1'));
    const again = await call('POST', '/stemcell_uploads', {
      body: JSON.stringify({ stemcell: { name: 'wire-stemcell', version: '1.1' } }),
      headers: { 'Content-Type': 'application/json' },
    });
    assert.deepEqual(JSON.parse(again.body), { needed: false });

    const deletion = await call('DELETE', '/stemcells/wire-stemcell/1.1');
    assert.equal(deletion.status, 302);
    const deleted = await followTask(
      new URL(String(deletion.headers.location), `https://127.0.0.1:${port}`).pathname,
    );
    assert.equal(deleted.task.state, 'done');
    const after = z.array(GoStemcell).parse(JSON.parse((await call('GET', '/stemcells')).body));
    assert.ok(!after.some((s) => s.name === 'wire-stemcell'));
  });

  it('bosh tasks, tasks --recent, task N, locks, events', async () => {
    const running = await call('GET', '/tasks?state=processing%2Ccancelling%2Cqueued&verbose=2');
    z.array(GoTask).parse(JSON.parse(running.body));
    const recent = z.array(GoTask).parse(JSON.parse((await call('GET', '/tasks?limit=5&verbose=1')).body));
    assert.ok(recent.length >= 1 && recent.length <= 5);
    const newest = recent[0]!;
    const single = GoTask.parse(JSON.parse((await call('GET', `/tasks/${newest.id}`)).body));
    assert.equal(single.id, newest.id);
    const size = Buffer.byteLength((await call('GET', `/tasks/${newest.id}/output?type=event`)).body);
    const past = await call('GET', `/tasks/${newest.id}/output?type=event`, {
      headers: { Range: `bytes=${size}-` },
    });
    assert.equal(past.status, 416);
    assert.equal(past.headers['content-range'], `bytes */${size}`);
    z.array(GoLock).parse(JSON.parse((await call('GET', '/locks')).body));
    const events = z.array(GoEvent).parse(JSON.parse((await call('GET', '/events')).body));
    assert.ok(events.some((e) => e.object_type === 'stemcell'));
  });

  it('bosh cancel-task on a finished task answers 400 with the invalid state', async () => {
    const recent = z.array(GoTask).parse(JSON.parse((await call('GET', '/tasks?limit=1&verbose=2')).body));
    const done = recent[0]!;
    const reply = await call('DELETE', `/task/${done.id}`);
    assert.equal(reply.status, 400);
    assert.match(reply.body, new RegExp(`Cannot cancel task ${done.id}: invalid state \\(${done.state}\\)`));
    const missing = await call('GET', '/tasks/987654');
    assert.equal(missing.status, 404);
    assert.deepEqual(JSON.parse(missing.body), { code: 10000, description: 'Task 987654 not found' });
  });
});
