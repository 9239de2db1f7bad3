import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { serveFinishedTask, startCliTestEnv, type CliTestEnv } from '../testing/cli-test-env.ts';
import { json, redirectToTask } from '../testing/local-https-server.ts';
import { makeTarball } from '../testing/make-tarball.ts';

const events =
  '{"time":1764016200,"stage":"Update stemcell","tags":[],"total":1,"task":"Extracting stemcell archive","index":1,"state":"started","progress":0}\n' +
  '{"time":1764016201,"stage":"Update stemcell","tags":[],"total":1,"task":"Extracting stemcell archive","index":1,"state":"finished","progress":100}\n';

describe('refit upload-stemcell', () => {
  let env: CliTestEnv;
  let tarball: string;
  let needed = true;
  before(async () => {
    env = await startCliTestEnv();
    tarball = join(env.home, 'stemcell.tgz');
    await makeTarball(tarball, [
      { name: 'stemcell.MF', content: 'name: bosh-test\nversion: 1.5\nsha1: abc\noperating_system: jammy\n' },
      { name: 'image', content: 'image-bytes' },
    ]);
    env.server.route('POST /stemcell_uploads', (req, res) => json({ needed })(req, res));
    env.server.route('POST /stemcells', redirectToTask(3));
    serveFinishedTask(env.server, 3, { events });
  });
  after(() => env.close());

  it('reads stemcell.MF locally, asks whether it is needed, streams the tarball, follows the task', async () => {
    const from = env.server.requests.length;
    const run = await env.run(['--tty', 'upload-stemcell', tarball]);
    assert.equal(run.code, 0, run.stderr);
    const requests = env.server.requests.slice(from);
    assert.deepEqual(requests.map((r) => `${r.method} ${r.url.replace(/\?.*/, '')}`).slice(0, 4), [
      'POST /stemcell_uploads',
      'POST /stemcells',
      'GET /tasks/3',
      'GET /tasks/3/output',
    ]);
    assert.deepEqual(JSON.parse(requests[0]!.body.toString()), {
      stemcell: { name: 'bosh-test', version: '1.5' },
    });
    assert.ok(requests[1]!.body.equals(await readFile(tarball)));
    assert.equal(requests[1]!.headers['content-type'], 'application/x-compressed');
    assert.match(run.stdout, /100\.00%/);
    assert.match(
      run.stdout,
      /\nTask 3\n\nTask 3 \| 20:30:00 \| Update stemcell: Extracting stemcell archive \(00:00:01\)\n/,
    );
    assert.match(run.stdout, /Task 3 done\n\nSucceeded\n$/);
  });

  it('stops with the stock message when the director already has it', async () => {
    needed = false;
    const from = env.server.requests.length;
    const run = await env.run(['--tty', 'upload-stemcell', tarball]);
    needed = true;
    assert.equal(run.code, 0);
    assert.match(run.stdout, /Stemcell 'bosh-test\/1\.5' already exists\.\n/);
    assert.ok(!env.server.requests.slice(from).some((r) => r.url.startsWith('/stemcells')));
  });

  it('sends a URL with its digest as JSON, and --fix skips the existence check', async () => {
    const from = env.server.requests.length;
    const run = await env.run([
      'upload-stemcell',
      'https://example.invalid/s.tgz',
      '--sha1',
      'sha256:ab',
      '--fix',
    ]);
    assert.equal(run.code, 0, run.stderr);
    const requests = env.server.requests.slice(from);
    assert.equal(requests[0]?.url, '/stemcells?fix=true');
    assert.deepEqual(JSON.parse(requests[0].body.toString()), {
      location: 'https://example.invalid/s.tgz',
      sha1: 'sha256:ab',
    });
  });

  it('fails clearly on a tarball without stemcell.MF, before talking to the director', async () => {
    const bad = join(env.home, 'bad.tgz');
    await makeTarball(bad, [{ name: 'image', content: 'x' }]);
    const from = env.server.requests.length;
    const run = await env.run(['upload-stemcell', bad]);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /has no 'stemcell\.MF'\n\nExit code 1\n/);
    assert.equal(env.server.requests.length, from);
  });
});
