import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { serveFinishedTask, startCliTestEnv, type CliTestEnv } from '../testing/cli-test-env.ts';
import { redirectToTask } from '../testing/local-https-server.ts';

describe('refit attach-disk', () => {
  let env: CliTestEnv;
  before(async () => {
    env = await startCliTestEnv();
    env.server.route('PUT /disks/disk-1/attachments', redirectToTask(9));
    serveFinishedTask(env.server, 9);
    env.server.route('PUT /disks/disk-2/attachments', redirectToTask(10));
    serveFinishedTask(env.server, 10);
    env.server.route('PUT /disks/disk-3/attachments', redirectToTask(11));
    serveFinishedTask(env.server, 11, { state: 'error' });
  });
  after(() => env.close());

  it('attaches without asking, with the deployment, group and instance as BOSH sends them', async () => {
    const run = await env.run(['-d', 'app', 'attach-disk', 'web/abc', 'disk-1']);
    assert.equal(run.code, 0, run.stderr);
    assert.ok(
      env.requestLines().includes('PUT /disks/disk-1/attachments?deployment=app&job=web&instance_id=abc'),
    );
  });

  it('passes --disk-properties (copy or a JSON object)', async () => {
    assert.equal(
      (await env.run(['-d', 'app', 'attach-disk', 'web/0', 'disk-2', '--disk-properties=copy'])).code,
      0,
    );
    const failed = await env.run([
      '-d',
      'app',
      'attach-disk',
      'web/0',
      'disk-3',
      '--disk-properties',
      '{"size":2048}',
    ]);
    assert.equal(failed.code, 1);
    assert.match(failed.stderr, /Expected task '11' to succeed but state is 'error'/);
    const props = new URLSearchParams({ disk_properties: '{"size":2048}' }).toString();
    assert.deepEqual(
      env
        .requestLines()
        .filter((l) => l.startsWith('PUT /disks/disk-2') || l.startsWith('PUT /disks/disk-3')),
      [
        'PUT /disks/disk-2/attachments?deployment=app&job=web&instance_id=0&disk_properties=copy',
        `PUT /disks/disk-3/attachments?deployment=app&job=web&instance_id=0&${props}`,
      ],
    );
  });

  it('refuses bad arguments before any request', async () => {
    const before = env.requestLines().length;
    const noDeployment = await env.run(['attach-disk', 'web/0', 'disk-1']);
    assert.equal(noDeployment.code, 1);
    assert.match(noDeployment.stderr, /Expected non-empty deployment name/);
    const noId = await env.run(['-d', 'app', 'attach-disk', 'web', 'disk-1']);
    assert.match(noId.stderr, /Expected 'web' to be in format 'INSTANCE-GROUP\/INSTANCE-ID'/);
    const badProps = await env.run(['-d', 'app', 'attach-disk', 'web/0', 'disk-1', '--disk-properties=big']);
    assert.match(badProps.stderr, /expected 'copy' or a JSON object/);
    const oneArg = await env.run(['-d', 'app', 'attach-disk', 'web/0']);
    assert.match(oneArg.stderr, /expected two arguments/);
    assert.equal(env.requestLines().length, before);
  });
});
