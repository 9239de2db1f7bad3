import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startCliTestEnv, type CliTestEnv } from '../testing/cli-test-env.ts';
import { json } from '../testing/local-https-server.ts';

describe('refit events and locks', () => {
  let env: CliTestEnv;
  before(async () => {
    env = await startCliTestEnv();
    env.server.route(
      'GET /events',
      json([
        {
          id: '5',
          parent_id: '4',
          timestamp: 1764016200,
          user: 'admin',
          action: 'delete',
          object_type: 'stemcell',
          object_name: 's/1',
          task: '7',
          deployment: null,
          instance: null,
          context: { force: true },
          error: null,
        },
        {
          id: '4',
          timestamp: 1764016100,
          user: 'admin',
          action: 'create',
          object_type: 'stemcell',
          object_name: 's/1',
          task: '6',
          context: {},
          error: 'boom',
        },
      ]),
    );
    env.server.route(
      'GET /locks',
      json([{ type: 'deployment', resource: ['cf', 'x'], timeout: '1764016200.5', task_id: '12' }]),
    );
  });
  after(() => env.close());

  it('passes the filters with the stock query names and prints the stock columns', async () => {
    const run = await env.run([
      '--tty',
      'events',
      '--before-id=9',
      '--object-type',
      'stemcell',
      '--object-name',
      's/1',
      '--action',
      'delete',
      '--task',
      '7',
      '--event-user',
      'admin',
      '--instance',
      'web/1',
      '-d',
      'cf',
    ]);
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(
      new URLSearchParams(
        env
          .requestLines()
          .find((l) => l.startsWith('GET /events'))
          ?.split('?')[1],
      ).toString(),
      'before_id=9&deployment=cf&task=7&instance=web%2F1&user=admin&action=delete&object_type=stemcell&object_name=s%2F1',
    );
    const lines = run.stdout.split('\n');
    assert.equal(
      lines[2],
      'ID      Time                          User   Action  Object Type  Object Name  Task ID  Deployment  Instance  Context      Error  ',
    );
    assert.equal(
      lines[3],
      '5 <- 4  Mon Nov 24 20:30:00 UTC 2025  admin  delete  stemcell     s/1          7        -           -         force: true  -  ',
    );
    assert.match(run.stdout, /\n2 events\n/);
    await env.run(['events', '--user', 'ops']);
    assert.ok(env.requestLines().includes('GET /events?user=ops'));
  });

  it('lists locks with the resource joined by : and the expiry as a time', async () => {
    const run = await env.run(['--tty', 'locks']);
    assert.equal(
      run.stdout.split('\n').slice(2, 4).join('\n'),
      'Type        Resource  Task ID  Expires at  \ndeployment  cf:x      12       Mon Nov 24 20:30:00 UTC 2025  ',
    );
  });
});
