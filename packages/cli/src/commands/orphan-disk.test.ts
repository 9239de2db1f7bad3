import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { serveFinishedTask, startCliTestEnv, type CliTestEnv } from '../testing/cli-test-env.ts';
import { redirectToTask } from '../testing/local-https-server.ts';

describe('refit orphan-disk', () => {
  let env: CliTestEnv;
  before(async () => {
    env = await startCliTestEnv();
    env.server.route('DELETE /disks/disk-1', redirectToTask(7));
    serveFinishedTask(env.server, 7);
    env.server.route('DELETE /disks/bad', redirectToTask(8));
    serveFinishedTask(env.server, 8, { state: 'error' });
  });
  after(() => env.close());

  it('asks first and does nothing on no', async () => {
    const run = await env.run(['--tty', 'orphan-disk', 'disk-1'], { stdin: 'n\n' });
    assert.equal(run.code, 1);
    assert.match(run.stderr, /^Stopped\n/);
    assert.ok(!env.requestLines().some((l) => l.startsWith('DELETE')));
  });

  it('orphans under -n with orphan=true, following the task', async () => {
    const run = await env.run(['-n', 'orphan-disk', 'disk-1']);
    assert.equal(run.code, 0, run.stderr);
    assert.ok(env.requestLines().includes('DELETE /disks/disk-1?orphan=true'));
  });

  it('fails when the task fails', async () => {
    const run = await env.run(['-n', 'orphan-disk', 'bad']);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /Expected task '8' to succeed but state is 'error'/);
  });
});
