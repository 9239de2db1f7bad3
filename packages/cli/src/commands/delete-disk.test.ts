import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { serveFinishedTask, startCliTestEnv, type CliTestEnv } from '../testing/cli-test-env.ts';
import { json, redirectToTask } from '../testing/local-https-server.ts';

describe('refit delete-disk', () => {
  let env: CliTestEnv;
  before(async () => {
    env = await startCliTestEnv();
    env.server.route('DELETE /disks/disk-1', redirectToTask(4));
    serveFinishedTask(env.server, 4);
    env.server.route('DELETE /disks/gone', redirectToTask(5));
    serveFinishedTask(env.server, 5, { state: 'error' });
    env.server.route('DELETE /disks/kept', redirectToTask(6));
    serveFinishedTask(env.server, 6, { state: 'error' });
    env.server.route(
      'GET /disks',
      json([
        {
          disk_cid: 'kept',
          size: 1,
          az: null,
          deployment_name: 'd',
          instance_name: 'w/1',
          cloud_properties: {},
          orphaned_at: '2026-11-24 03:00:00 UTC',
        },
      ]),
    );
  });
  after(() => env.close());

  it('asks first and does nothing on no', async () => {
    const run = await env.run(['--tty', 'delete-disk', 'disk-1'], { stdin: 'n\n' });
    assert.equal(run.code, 1);
    assert.match(run.stdout, /Continue\? \[yN\]: /);
    assert.match(run.stderr, /^Stopped\n/);
    assert.ok(!env.requestLines().some((l) => l.startsWith('DELETE')));
  });

  it('deletes on yes, and without asking under -n, following the task', async () => {
    assert.equal((await env.run(['delete-disk', 'disk-1'], { stdin: 'y\n' })).code, 0);
    assert.equal((await env.run(['-n', 'delete-disk', 'disk-1'])).code, 0);
    assert.equal(env.requestLines().filter((l) => l === 'DELETE /disks/disk-1').length, 2);
  });

  it('ignores a failed task when the disk is no orphan anymore, not when it is still listed', async () => {
    assert.equal((await env.run(['-n', 'delete-disk', 'gone'])).code, 0);
    const kept = await env.run(['-n', 'delete-disk', 'kept']);
    assert.equal(kept.code, 1);
    assert.match(kept.stderr, /Expected task '6' to succeed but state is 'error'/);
  });

  it('wants exactly one CID', async () => {
    const run = await env.run(['-n', 'delete-disk']);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /expected one argument: CID/);
  });
});
