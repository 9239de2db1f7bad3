import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { serveFinishedTask, startCliTestEnv, type CliTestEnv } from '../testing/cli-test-env.ts';
import { json } from '../testing/local-https-server.ts';

describe('refit tasks, task, cancel-task', () => {
  let env: CliTestEnv;
  let current: unknown[] = [];
  before(async () => {
    env = await startCliTestEnv();
    env.server.route('GET /tasks', (req, res) =>
      json(
        req.url.includes('limit=')
          ? [
              {
                id: 9,
                state: 'done',
                description: 'create stemcell',
                timestamp: 1764016260,
                started_at: 1764016200,
                result: '/stemcells/s/1',
                user: 'admin',
                deployment: null,
                context_id: '',
              },
              {
                id: 10,
                state: 'processing',
                description: 'delete stemcell: s/1',
                timestamp: null,
                started_at: 1764016300,
                result: null,
                user: 'admin',
                deployment: 'dep',
                context_id: '',
              },
            ]
          : current,
      )(req, res),
    );
    serveFinishedTask(env.server, 9, {
      result: '/stemcells/s/1\n',
      events: '{"time":1764016200,"stage":"S","tags":[],"task":"T","state":"finished"}\n',
    });
    env.server.route('DELETE /task/9', (_req, res) =>
      res
        .writeHead(400)
        .end(JSON.stringify({ code: 10001, description: 'Cannot cancel task 9: invalid state (done)' })),
    );
    env.server.route('DELETE /task/10', (_req, res) => res.writeHead(204).end());
  });
  after(() => env.close());

  it('lists running tasks of every type, or the recent ones, with the stock queries and table', async () => {
    const recent = await env.run(['--tty', 'tasks', '--recent=5', '-a', '-d', 'dep']);
    assert.equal(recent.code, 0, recent.stderr);
    assert.equal(
      recent.stdout.split('\n').slice(2, 6).join('\n'),
      [
        'ID  State       Started At                    Finished At                   User   Deployment  Description           Result  ',
        '10  processing  Mon Nov 24 20:31:40 UTC 2025  -                             admin  dep         delete stemcell: s/1  -  ',
        '9   done        Mon Nov 24 20:30:00 UTC 2025  Mon Nov 24 20:31:00 UTC 2025  admin  -           create stemcell       /stemcells/s/1  ',
        '',
      ].join('\n'),
    );
    await env.run(['tasks']);
    await env.run(['tasks', '-r']);
    const queries = env.requestLines().filter((l) => l.startsWith('GET /tasks?'));
    assert.deepEqual(queries, [
      'GET /tasks?limit=5&verbose=2&deployment=dep',
      'GET /tasks?state=processing%2Ccancelling%2Cqueued&verbose=2',
      'GET /tasks?limit=30&verbose=1',
    ]);
  });

  it('task --result prints the result log between Task N and Task N done; task without ID needs a current one', async () => {
    const run = await env.run(['--tty', 'task', '9', '--result']);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /\nTask 9\n\n\/stemcells\/s\/1\n\nTask 9 done\n\nSucceeded\n$/);
    const events = await env.run(['--tty', 'task', '9']);
    assert.match(events.stdout, /Task 9 \| 20:30:00 \| S: T \(\)\n/);
    const raw = await env.run(['--tty', 'task', '9', '--event']);
    assert.match(
      raw.stdout,
      /\nTask 9\n\n\{"time":1764016200,"stage":"S","tags":\[\],"task":"T","state":"finished"\}\n\nTask 9 done\n/,
    );
    current = [];
    const none = await env.run(['task']);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /^No task found\n/);
    current = [{ id: 9, state: 'processing' }];
    assert.equal((await env.run(['task'])).code, 0);
  });

  it('cancel-task sends DELETE /task/<id> and reports the director refusing', async () => {
    assert.equal((await env.run(['cancel-task', '10'])).code, 0);
    const refused = await env.run(['cancel-task', '9']);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /Cannot cancel task 9: invalid state \(done\)/);
    const bad = await env.run(['cancel-task', 'abc']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /expected ID to be a positive integer/);
  });
});
