import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { serveFinishedTask, startCliTestEnv, type CliTestEnv } from '../testing/cli-test-env.ts';
import { json, redirectToTask } from '../testing/local-https-server.ts';

describe('refit releases and delete-release', () => {
  let env: CliTestEnv;
  let listing: unknown[];
  before(async () => {
    env = await startCliTestEnv();
    listing = [
      {
        name: 'zoo',
        release_versions: [
          { version: '1.9', commit_hash: 'aa11', uncommitted_changes: false, currently_deployed: false },
          { version: '1.10', commit_hash: 'bb22', uncommitted_changes: true, currently_deployed: true },
        ],
      },
      { name: 'app', release_versions: [{ version: '2', commit_hash: null, job_names: ['web'] }] },
    ];
    env.server.route('GET /releases', (req, res) => json(listing)(req, res));
    env.server.route('DELETE /releases/zoo', redirectToTask(9));
    serveFinishedTask(env.server, 9);
    env.server.route('DELETE /releases/app', redirectToTask(10));
    serveFinishedTask(env.server, 10, { state: 'error' });
  });
  after(() => env.close());

  it('prints Name, Version (* deployed), Commit Hash (+ uncommitted), name asc, version desc', async () => {
    const run = await env.run(['--tty', 'releases']);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(
      run.stdout,
      [
        `Using environment '${env.server.url}' as client 'admin'`,
        '',
        'Name  Version  Commit Hash  ',
        'app   2        -  ',
        'zoo   1.10*    bb22+  ',
        '~     1.9      aa11  ',
        '',
        '(*) Currently deployed',
        '(+) Uncommitted changes',
        '',
        '3 releases',
        '',
        'Succeeded',
        '',
      ].join('\n'),
    );
    assert.deepEqual(env.requestLines().slice(-1), ['GET /releases']);
  });

  it('refuses an empty version as the stock CLI does', async () => {
    const saved = listing;
    listing = [{ name: 'x', release_versions: [{ version: '' }] }];
    const run = await env.run(['releases']);
    listing = saved;
    assert.equal(run.code, 1);
    assert.match(run.stderr, /Expected version to be non-empty string/);
  });

  it('delete-release NAME/VERSION confirms, then DELETE with version and force', async () => {
    const refused = await env.run(['delete-release', 'zoo/1.9'], { stdin: 'n\n' });
    assert.equal(refused.code, 1);
    assert.ok(!env.requestLines().some((l) => l.startsWith('DELETE')));
    const run = await env.run(['delete-release', 'zoo/1.9', '--force'], { stdin: 'y\n' });
    assert.equal(run.code, 0, run.stderr);
    assert.ok(env.requestLines().includes('DELETE /releases/zoo?force=true&version=1.9'));
  });

  it('delete-release NAME deletes every version; a failed task counts when the release remains', async () => {
    const run = await env.run(['-n', 'delete-release', 'app']);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /Expected task '10' to succeed but state is 'error'/);
    assert.ok(env.requestLines().includes('DELETE /releases/app'));
    const saved = listing;
    listing = [];
    const gone = await env.run(['-n', 'delete-release', 'app']);
    listing = saved;
    assert.equal(gone.code, 0, gone.stderr);
  });

  it('refuses a bad slug before any request', async () => {
    const from = env.server.requests.length;
    const run = await env.run(['-n', 'delete-release', 'a/b/c']);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /Expected 'a\/b\/c' to be in format 'NAME\[\/VERSION\]'/);
    assert.equal(env.server.requests.length, from);
  });
});
