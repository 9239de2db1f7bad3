import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startCliTestEnv, type CliTestEnv } from '../testing/cli-test-env.ts';
import { json } from '../testing/local-https-server.ts';

describe('refit update-cloud-config and cloud-config', () => {
  let env: CliTestEnv;
  let stored: string | undefined;
  before(async () => {
    env = await startCliTestEnv();
    env.server.route(
      'POST /cloud_configs/diff',
      json({
        diff: [
          ['azs:', null],
          ['- name: z2', 'added'],
          ['- name: z1', 'removed'],
        ],
      }),
    );
    env.server.route('POST /cloud_configs', (req, res) => {
      stored = req.body.toString();
      res.writeHead(201).end();
    });
    env.server.route('GET /cloud_configs', (req, res) =>
      json(stored === undefined ? [] : [{ properties: stored, created_at: 'now' }])(req, res),
    );
  });
  after(() => env.close());

  it('shows the diff, asks, and posts the YAML under the default name', async () => {
    const path = join(env.home, 'cc.yml');
    await writeFile(path, 'azs:\n- name: z2\n');
    const refused = await env.run(['--tty', 'update-cloud-config', path], { stdin: 'n\n' });
    assert.equal(refused.code, 1);
    assert.equal(stored, undefined);
    const run = await env.run(['--tty', 'update-cloud-config', path], { stdin: 'y\n' });
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /\n\n {2}azs:\n\+ - name: z2\n- - name: z1\n\nContinue\? \[yN\]: /);
    assert.equal(stored, 'azs:\n- name: z2\n');
    const post = env.server.requests.find((r) => r.method === 'POST' && r.url.startsWith('/cloud_configs?'));
    assert.equal(post?.url, '/cloud_configs?name=default');
    assert.equal(post?.headers['content-type'], 'text/yaml');
  });

  it('prints the latest cloud config, and says when there is none', async () => {
    const run = await env.run(['cloud-config']);
    assert.equal(run.stdout, 'azs:\n- name: z2\n');
    assert.ok(env.requestLines().includes('GET /cloud_configs?name=default&limit=1'));
    stored = undefined;
    const none = await env.run(['cloud-config']);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /^No cloud config\n/);
  });
});
