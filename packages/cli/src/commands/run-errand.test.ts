import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { serveFinishedTask, startCliTestEnv, type CliTestEnv } from '../testing/cli-test-env.ts';
import { json, redirectToTask } from '../testing/local-https-server.ts';

const line = (group: string, id: string, exitCode: number, stdout: string, stderr = ''): string =>
  JSON.stringify({
    exit_code: exitCode,
    stdout,
    stderr,
    logs: { blobstore_id: null },
    instance: { group, id },
    errand_name: 'smoke',
  });

describe('refit run-errand and errands', () => {
  let env: CliTestEnv;
  before(async () => {
    env = await startCliTestEnv();
    env.server.route('GET /deployments/app/errands', json([{ name: 'smoke' }, { name: 'migrate' }]));
    env.server.route('POST /deployments/app/errands/smoke/runs', redirectToTask(7));
    serveFinishedTask(env.server, 7, { result: `${line('smoke', 'abc', 0, 'all good\n')}\n` });
    env.server.route('POST /deployments/app/errands/migrate/runs', redirectToTask(8));
    serveFinishedTask(env.server, 8, {
      result: `${line('web', 'w1', 0, 'ok\n')}\n${line('web', 'w2', 2, '', 'broken\n')}\n`,
    });
    env.server.route('POST /deployments/app/errands/slow/runs', redirectToTask(9));
    serveFinishedTask(env.server, 9, { result: `${line('slow', 's0', 143, '', '')}\n` });
  });
  after(() => env.close());

  const bodies = (path: string): unknown[] =>
    env.server.requests
      .filter((r) => `${r.method} ${r.url}` === path)
      .map((r) => JSON.parse(r.body.toString('utf8')) as unknown);

  it('errands lists the names', async () => {
    const run = await env.run(['-d', 'app', 'errands']);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, 'migrate\t\nsmoke\t\n');
  });

  it('posts the defaults and prints the transposed result table', async () => {
    const run = await env.run(['-d', 'app', 'run-errand', 'smoke']);
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(bodies('POST /deployments/app/errands/smoke/runs'), [
      { keep_alive: false, when_changed: false, instances: [] },
    ]);
    assert.match(run.stdout, /Instance\s+smoke\/abc\s+Exit Code\s+0\s+Stdout\s+all good\s+Stderr\s+-/);
  });

  it('sends --keep-alive, --when-changed and every --instance; fails on a non-zero exit code', async () => {
    const run = await env.run([
      '-d',
      'app',
      'run-errand',
      'migrate',
      '--keep-alive',
      '--when-changed',
      '--instance',
      'web/w1',
      '--instance=web',
    ]);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /Errand 'migrate' completed with error \(exit code 2\)/);
    assert.deepEqual(bodies('POST /deployments/app/errands/migrate/runs'), [
      {
        keep_alive: true,
        when_changed: true,
        instances: [
          { group: 'web', id: 'w1' },
          { group: 'web', id: '' },
        ],
      },
    ]);
    assert.match(run.stdout, /Instance\s+web\/w2\s+Exit Code\s+2\s+Stdout\s+-\s+Stderr\s+broken/);
  });

  it('an exit code above 128 is a canceled errand', async () => {
    const run = await env.run(['-d', 'app', 'run-errand', 'slow']);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /Errand 'slow' was canceled \(exit code 143\)/);
  });

  it('refuses a bad instance slug and a missing name before any request', async () => {
    const count = env.requestLines().length;
    const bad = await env.run(['-d', 'app', 'run-errand', 'smoke', '--instance', 'a/b/c']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /Expected instance 'a\/b\/c' to be in format 'name' or 'name\/id'/);
    const noName = await env.run(['-d', 'app', 'run-errand']);
    assert.match(noName.stderr, /expected one argument: NAME/);
    assert.equal(env.requestLines().length, count);
  });
});
