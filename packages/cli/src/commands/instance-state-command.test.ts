import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { serveFinishedTask, startCliTestEnv, type CliTestEnv } from '../testing/cli-test-env.ts';
import { json, redirectToTask } from '../testing/local-https-server.ts';

describe('refit recreate, restart, stop, start, delete-deployment', () => {
  let env: CliTestEnv;
  let deployments: unknown[] = [{ name: 'zk' }];
  before(async () => {
    env = await startCliTestEnv();
    env.server.route('PUT /deployments/zk/jobs/*', redirectToTask(41));
    env.server.route('PUT /deployments/zk/jobs/web', redirectToTask(41));
    env.server.route('PUT /deployments/zk/jobs/web/aaa', redirectToTask(41));
    env.server.route('PUT /deployments/zk/jobs/web/0', redirectToTask(41));
    serveFinishedTask(env.server, 41, {
      result: `${JSON.stringify({ instance: 'web/aaa (0)', az: 'z1', action: 'recreate', strategy: 'reload', reason: 'recreate requested', download_bytes: 1024 })}\n`,
    });
    env.server.route('DELETE /deployments/zk', redirectToTask(42));
    serveFinishedTask(env.server, 42, { state: 'error' });
    env.server.route('GET /deployments', (req, res) => json(deployments)(req, res));
  });
  after(() => env.close());

  const puts = () => env.server.requests.filter((r) => r.method === 'PUT');

  it('recreate asks first, then PUTs state=recreate on every group with an empty text/yaml body', async () => {
    const refused = await env.run(['-d', 'zk', 'recreate'], { stdin: 'n\n' });
    assert.equal(refused.code, 1);
    assert.equal(puts().length, 0);
    const run = await env.run(['-d', 'zk', 'recreate'], { stdin: 'y\n' });
    assert.equal(run.code, 0, run.stderr);
    const put = puts().at(-1)!;
    assert.equal(put.url, '/deployments/zk/jobs/*?state=recreate');
    assert.equal(put.headers['content-type'], 'text/yaml');
    assert.equal(put.body.length, 0);
  });

  it('recreate IG/ID passes its flags, --strategy reload included', async () => {
    const run = await env.run([
      '-n',
      '-d',
      'zk',
      'recreate',
      'web/aaa',
      '--skip-drain',
      '--fix',
      '--dry-run',
      '--canaries=1',
      '--max-in-flight',
      '50%',
      '--strategy',
      'reload',
    ]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^web\/aaa \(0\)\tz1\trecreate\treload\trecreate requested\t1\.0 KiB\t$/m);
    assert.equal(
      puts().at(-1)!.url,
      '/deployments/zk/jobs/web/aaa?canaries=1&dry_run=true&fix=true&max_in_flight=50%25&skip_drain=true&state=recreate&strategy=reload',
    );
  });

  it('restart IG, stop (soft and --hard), start IG/INDEX', async () => {
    const urls: string[] = [];
    for (const argv of [
      ['restart', 'web', '--skip-drain'],
      ['stop'],
      ['stop', 'web/0', '--hard'],
      ['start', 'web/0'],
    ]) {
      const run = await env.run(['-n', '-d', 'zk', ...argv]);
      assert.equal(run.code, 0, run.stderr);
      urls.push(puts().at(-1)!.url);
    }
    assert.deepEqual(urls, [
      '/deployments/zk/jobs/web?skip_drain=true&state=restart',
      '/deployments/zk/jobs/*?state=stopped',
      '/deployments/zk/jobs/web/0?state=detached',
      '/deployments/zk/jobs/web/0?state=started',
    ]);
  });

  it('refuses flags a command does not have, a bad slug, and a missing -d, before any request', async () => {
    const from = env.server.requests.length;
    const noFlag = await env.run(['-n', '-d', 'zk', 'start', '--hard']);
    assert.match(noFlag.stderr, /unknown flag `hard'/);
    const slug = await env.run(['-n', '-d', 'zk', 'restart', 'a/b/c']);
    assert.match(slug.stderr, /Expected 'a\/b\/c' to be in format 'INSTANCE-GROUP\[\/INSTANCE-ID\]'/);
    const noDeployment = await env.run(['-n', 'stop']);
    assert.match(noDeployment.stderr, /Expected non-empty deployment name/);
    assert.equal(env.server.requests.length, from);
  });

  it('delete-deployment confirms, DELETEs with --force; a failed task counts while it still exists', async () => {
    const refused = await env.run(['-d', 'zk', 'delete-deployment'], { stdin: 'n\n' });
    assert.equal(refused.code, 1);
    assert.ok(!env.requestLines().some((l) => l.startsWith('DELETE')));
    const failed = await env.run(['-n', '-d', 'zk', 'delete-deployment', '--force']);
    assert.equal(failed.code, 1);
    assert.match(failed.stderr, /Expected task '42' to succeed but state is 'error'/);
    assert.ok(env.requestLines().includes('DELETE /deployments/zk?force=true'));
    deployments = [];
    const gone = await env.run(['-n', '-d', 'zk', 'delete-deployment']);
    assert.equal(gone.code, 0, gone.stderr);
    assert.equal(env.requestLines().filter((l) => l === 'DELETE /deployments/zk').length, 1);
  });
});
