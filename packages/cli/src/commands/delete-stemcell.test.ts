import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { serveFinishedTask, startCliTestEnv, type CliTestEnv } from '../testing/cli-test-env.ts';
import { json, redirectToTask } from '../testing/local-https-server.ts';

describe('refit delete-stemcell', () => {
  let env: CliTestEnv;
  before(async () => {
    env = await startCliTestEnv();
    env.server.route('DELETE /stemcells/s/1', redirectToTask(4));
    serveFinishedTask(env.server, 4);
    env.server.route('DELETE /stemcells/gone/2', redirectToTask(5));
    serveFinishedTask(env.server, 5, { state: 'error' });
    env.server.route('DELETE /stemcells/kept/3', redirectToTask(6));
    serveFinishedTask(env.server, 6, { state: 'error' });
    env.server.route('GET /stemcells', json([{ name: 'kept', version: '3' }]));
  });
  after(() => env.close());

  it('asks first and does nothing on no', async () => {
    const run = await env.run(['--tty', 'delete-stemcell', 's/1'], { stdin: 'n\n' });
    assert.equal(run.code, 1);
    assert.match(run.stdout, /Continue\? \[yN\]: /);
    assert.match(run.stderr, /^Stopped\n/);
    assert.ok(!env.requestLines().some((l) => l.startsWith('DELETE')));
  });

  it('deletes on yes, and without asking under -n, following the task', async () => {
    assert.equal((await env.run(['delete-stemcell', 's/1'], { stdin: 'y\n' })).code, 0);
    assert.equal((await env.run(['-n', 'delete-stemcell', 's/1', '--force'])).code, 0);
    assert.ok(env.requestLines().includes('DELETE /stemcells/s/1?force=true'));
  });

  it('ignores a failed task when the stemcell is gone anyway, not when it is still there', async () => {
    assert.equal((await env.run(['-n', 'delete-stemcell', 'gone/2'])).code, 0);
    const kept = await env.run(['-n', 'delete-stemcell', 'kept/3']);
    assert.equal(kept.code, 1);
    assert.match(kept.stderr, /Expected task '6' to succeed but state is 'error'/);
  });

  it('refuses a slug without a version', async () => {
    const run = await env.run(['-n', 'delete-stemcell', 'nover']);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /Expected 'nover' to be in format 'NAME\/VERSION'/);
  });
});
