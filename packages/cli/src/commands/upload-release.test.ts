import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { buildRelease } from '@refit/testkit/release/build-release.ts';
import tarStream from 'tar-stream';
import { serveFinishedTask, startCliTestEnv, type CliTestEnv } from '../testing/cli-test-env.ts';
import { json, redirectToTask, type Handler } from '../testing/local-https-server.ts';

/** Entry names of a (gzipped) tarball. */
async function entryNames(tgz: Buffer): Promise<string[]> {
  const extract = tarStream.extract();
  const names: string[] = [];
  const done = (async () => {
    for await (const entry of extract) {
      names.push(entry.header.name);
      entry.resume();
    }
  })();
  extract.end(gunzipSync(tgz));
  await done;
  return names;
}

describe('refit upload-release', () => {
  let env: CliTestEnv;
  let tarball: string;
  let built: Awaited<ReturnType<typeof buildRelease>>;
  let known: unknown[] = [];
  let matches: Handler;
  before(async () => {
    env = await startCliTestEnv();
    built = await buildRelease({
      name: 'app',
      version: '1.2',
      commitHash: 'abcdef12',
      jobs: [{ name: 'web', templates: { 'run.erb': 'x' }, packages: ['ruby', 'lib'] }],
      packages: [
        { name: 'ruby', files: { 'a.txt': 'ruby' } },
        { name: 'lib', files: { 'b.txt': 'lib' }, dependencies: ['ruby'] },
      ],
    });
    tarball = join(env.home, 'app-1.2.tgz');
    await writeFile(tarball, built.tarball);
    env.server.route('GET /releases', (req, res) => json(known)(req, res));
    matches = json([]);
    env.server.route('POST /packages/matches', (req, res) => matches(req, res));
    env.server.route('POST /releases', redirectToTask(7));
    serveFinishedTask(env.server, 7, {
      events:
        '{"time":1764016200,"stage":"Extracting release","tags":[],"total":1,"task":"Extracting release","index":1,"state":"started","progress":0}\n' +
        '{"time":1764016202,"stage":"Extracting release","tags":[],"total":1,"task":"Extracting release","index":1,"state":"finished","progress":100}\n',
    });
  });
  after(() => env.close());

  it('checks GET /releases, asks /packages/matches, leaves matched packages out, follows the task', async () => {
    matches = json([built.packages.get('ruby')!.fingerprint, 'unrelated']);
    const from = env.server.requests.length;
    const run = await env.run(['--tty', 'upload-release', tarball]);
    assert.equal(run.code, 0, run.stderr);
    const requests = env.server.requests.slice(from);
    assert.deepEqual(
      requests.map((r) => `${r.method} ${r.url}`),
      [
        'GET /releases',
        'POST /packages/matches',
        'POST /releases',
        'GET /tasks/7',
        'GET /tasks/7/output?type=event',
        'GET /tasks/7/output?type=result',
      ],
    );
    assert.equal(requests[1]!.headers['content-type'], 'text/yaml');
    assert.equal(requests[1]!.body.toString(), built.manifestText);
    const upload = requests[2]!;
    assert.equal(upload.headers['content-type'], 'application/x-compressed');
    assert.equal(upload.headers['content-length'], String(upload.body.length));
    const sent = await entryNames(upload.body);
    const original = await entryNames(built.tarball);
    assert.deepEqual(
      sent,
      original.filter((n) => n.replace(/^\.\//, '') !== 'packages/ruby.tgz'),
    );
    assert.ok(sent.some((n) => n.endsWith('packages/lib.tgz')));
    assert.match(run.stdout, /100\.00%/);
    assert.match(run.stdout, /Task 7 \| 20:30:00 \| Extracting release: Extracting release \(00:00:02\)\n/);
    assert.match(run.stdout, /Task 7 done\n\nSucceeded\n$/);
  });

  it('uploads the tarball unchanged when /packages/matches fails (ignored, as the stock CLI)', async () => {
    matches = (_req, res) => res.writeHead(500).end('boom');
    const from = env.server.requests.length;
    const run = await env.run(['upload-release', tarball]);
    assert.equal(run.code, 0, run.stderr);
    const upload = env.server.requests.slice(from).find((r) => r.method === 'POST' && r.url === '/releases');
    assert.ok(upload?.body.equals(built.tarball));
  });

  it('stops with the stock message when the director already has the version', async () => {
    known = [{ name: 'app', release_versions: [{ version: '1.2', commit_hash: 'abcdef12' }] }];
    const from = env.server.requests.length;
    const run = await env.run(['--tty', 'upload-release', tarball]);
    known = [];
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /\nRelease 'app\/1\.2' already exists\.\nSucceeded\n$/);
    assert.ok(!env.server.requests.slice(from).some((r) => r.method === 'POST'));
  });

  it('--fix skips the checks and sends everything; a URL goes as JSON with its digest and flags', async () => {
    let from = env.server.requests.length;
    const fixed = await env.run(['upload-release', tarball, '--fix']);
    assert.equal(fixed.code, 0, fixed.stderr);
    let requests = env.server.requests.slice(from);
    assert.deepEqual(
      requests.slice(0, 1).map((r) => `${r.method} ${r.url}`),
      ['POST /releases?fix=true'],
    );
    assert.ok(requests[0]!.body.equals(built.tarball));

    from = env.server.requests.length;
    const remote = await env.run([
      'upload-release',
      'https://example.invalid/app.tgz',
      '--sha1',
      'sha256:ab',
      '--name',
      'app',
      '--version',
      '9',
      '--rebase',
    ]);
    assert.equal(remote.code, 0, remote.stderr);
    requests = env.server.requests.slice(from);
    assert.deepEqual(
      requests.slice(0, 2).map((r) => `${r.method} ${r.url}`),
      ['GET /releases', 'POST /releases?rebase=true'],
    );
    assert.equal(requests[1]!.headers['content-type'], 'application/json');
    assert.deepEqual(JSON.parse(requests[1]!.body.toString()), {
      location: 'https://example.invalid/app.tgz',
      sha1: 'sha256:ab',
    });
  });

  it('refuses a tarball without release.MF before talking to the director', async () => {
    const bad = join(env.home, 'bad.tgz');
    await writeFile(bad, (await buildRelease({ name: 'x', version: '1', editManifest: () => ({}) })).tarball);
    const from = env.server.requests.length;
    const run = await env.run(['upload-release', bad]);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /Invalid 'release\.MF'/);
    assert.equal(env.server.requests.length, from);
  });

  it('a compiled release asks /packages/matches_compiled and leaves out compiled_packages/ hits', async () => {
    const compiled = await buildRelease({
      name: 'capp',
      version: '3',
      compiledFor: 'ubuntu-jammy/1.5',
      jobs: [{ name: 'web', templates: {}, packages: ['bin'] }],
      packages: [
        { name: 'bin', files: { 'x.bin': 'x' } },
        { name: 'lib', files: { 'y.so': 'y' } },
      ],
    });
    const path = join(env.home, 'capp-3.tgz');
    await writeFile(path, compiled.tarball);
    env.server.route('POST /packages/matches_compiled', json([compiled.packages.get('lib')!.fingerprint]));
    const from = env.server.requests.length;
    const run = await env.run(['upload-release', path]);
    assert.equal(run.code, 0, run.stderr);
    const requests = env.server.requests.slice(from);
    assert.deepEqual(
      requests.slice(0, 3).map((r) => `${r.method} ${r.url}`),
      ['GET /releases', 'POST /packages/matches_compiled', 'POST /releases'],
    );
    const sent = await entryNames(requests[2]!.body);
    assert.ok(
      sent.some((n) => n.endsWith('compiled_packages/bin.tgz')),
      sent.join(', '),
    );
    assert.ok(!sent.some((n) => n.endsWith('compiled_packages/lib.tgz')), sent.join(', '));
  });
});
