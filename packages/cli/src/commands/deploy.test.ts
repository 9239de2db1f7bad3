import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { serveFinishedTask, startCliTestEnv, type CliTestEnv } from '../testing/cli-test-env.ts';
import { json, redirectToTask } from '../testing/local-https-server.ts';

const manifestYaml = 'name: zk\nreleases: []\ninstance_groups: []\n';

describe('refit deploy', () => {
  let env: CliTestEnv;
  let path: string;
  let posted: string | undefined;
  let planResult = '';
  before(async () => {
    env = await startCliTestEnv();
    path = join(env.home, 'zk.yml');
    await writeFile(path, manifestYaml);
    env.server.route(
      'POST /deployments/zk/diff',
      json({
        context: { cloud_config_ids: [1], runtime_config_ids: [] },
        diff: [
          ['instance_groups:', null],
          ['- name: zk', 'added'],
          ['  instances: 2', 'removed'],
        ],
      }),
    );
    env.server.route('POST /deployments', (req, res) => {
      posted = req.body.toString();
      void redirectToTask(21)(req, res);
    });
    env.server.route('GET /tasks/21', json({ id: 21, state: 'done' }));
    env.server.route('GET /tasks/21/output', (req, res) => {
      const type = new URL(req.url, 'https://x').searchParams.get('type');
      if (type === 'result') res.writeHead(200).end(planResult);
      else res.writeHead(req.headers.range === undefined ? 200 : 416).end();
    });
  });
  after(() => env.close());

  const deployPosts = () =>
    env.server.requests
      .filter((r) => r.method === 'POST' && r.url.startsWith('/deployments?'))
      .map((r) => r.url);

  it('refuses a manifest whose name is not -d, before any request', async () => {
    const from = env.server.requests.length;
    const run = await env.run(['-d', 'other', 'deploy', path]);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /^Expected manifest to specify deployment name 'other' but was 'zk'\n/);
    assert.equal(env.server.requests.length, from);
    const none = await env.run(['deploy', path]);
    assert.match(none.stderr, /Expected non-empty deployment name/);
  });

  it('shows the diff, asks, and posts the manifest with the diff context', async () => {
    const refused = await env.run(['--tty', '-d', 'zk', 'deploy', path], { stdin: 'n\n' });
    assert.equal(refused.code, 1);
    assert.deepEqual(deployPosts(), []);
    assert.match(
      refused.stdout,
      /\n\n {2}instance_groups:\n\+ - name: zk\n- {3}instances: 2\n\nContinue\? \[yN\]: /,
    );
    const diffRequest = env.server.requests.find((r) => r.url.startsWith('/deployments/zk/diff'));
    assert.equal(diffRequest?.url, '/deployments/zk/diff?redact=true');
    assert.equal(diffRequest?.headers['content-type'], 'text/yaml');
    assert.equal(diffRequest?.body.toString(), manifestYaml);

    const run = await env.run(['--tty', '-d', 'zk', 'deploy', path], { stdin: 'y\n' });
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(deployPosts(), [
      '/deployments?context=%7B%22cloud_config_ids%22%3A%5B1%5D%2C%22runtime_config_ids%22%3A%5B%5D%7D',
    ]);
    assert.equal(posted, manifestYaml);
    const post = env.server.requests.find((r) => r.url.startsWith('/deployments?'));
    assert.equal(post?.headers['content-type'], 'text/yaml');
    assert.match(run.stdout, /Task 21\. Done\n\nSucceeded\n$/);
  });

  it('sends every flag as the stock query parameters (alphabetical), plus Refit strategy', async () => {
    const before = deployPosts().length;
    const run = await env.run([
      '-n',
      '-d',
      'zk',
      'deploy',
      path,
      '--no-redact',
      '--recreate',
      '--recreate-persistent-disks',
      '--fix',
      '--skip-drain=web',
      '--skip-drain=db/1',
      '--canaries',
      '1',
      '--max-in-flight=25%',
      '--strategy',
      'reload',
      '--allow-downgrade',
    ]);
    assert.equal(run.code, 0, run.stderr);
    const url = deployPosts()[before]!;
    const params = [...new URL(url, 'https://x').searchParams];
    assert.deepEqual(params, [
      ['allow_downgrade', 'true'],
      ['canaries', '1'],
      ['context', '{"cloud_config_ids":[1],"runtime_config_ids":[]}'],
      ['fix', 'true'],
      ['max_in_flight', '25%'],
      ['recreate', 'true'],
      ['recreate_persistent_disks', 'true'],
      ['skip_drain', 'web,db/1'],
      ['strategy', 'reload'],
    ]);
    assert.ok(env.requestLines().includes('POST /deployments/zk/diff?redact=false'));
  });

  it('--skip-drain alone is every instance; --update-stemcell-strategy is --strategy', async () => {
    const before = deployPosts().length;
    const run = await env.run([
      '-n',
      '-d',
      'zk',
      'deploy',
      path,
      '--skip-drain',
      '--update-stemcell-strategy',
      'recreate',
    ]);
    assert.equal(run.code, 0, run.stderr);
    const params = new URL(deployPosts()[before]!, 'https://x').searchParams;
    assert.equal(params.get('skip_drain'), '*');
    assert.equal(params.get('strategy'), 'recreate');
    assert.equal(params.get('allow_downgrade'), null, 'sent only when given');

    const from = env.server.requests.length;
    const clash = await env.run([
      '-n',
      '-d',
      'zk',
      'deploy',
      path,
      '--strategy=reload',
      '--update-stemcell-strategy=recreate',
    ]);
    assert.equal(clash.code, 1);
    assert.match(clash.stderr, /--strategy and --update-stemcell-strategy disagree/);
    const bad = await env.run(['-n', '-d', 'zk', 'deploy', path, '--strategy', 'reboot']);
    assert.match(bad.stderr, /--strategy: expected 'reload' or 'recreate'/);
    assert.equal(env.server.requests.length, from);
  });

  it('--dry-run posts dry_run=true and prints the plan from the task result', async () => {
    planResult =
      JSON.stringify({
        instance: 'zk/a1 (0)',
        az: 'z1',
        action: 'recreate',
        strategy: 'reload',
        reason: 'stemcell s/1.1 → s/1.2',
        download_bytes: 52428800,
      }) +
      '\n' +
      JSON.stringify({
        instance: 'zk/b2 (1)',
        az: 'z2',
        action: 'recreate',
        strategy: 'recreate',
        reason: 'reload not possible: vm_type needs a new VM',
        download_bytes: null,
      }) +
      '\n';
    const before = deployPosts().length;
    const run = await env.run(['--tty', '-n', '-d', 'zk', 'deploy', path, '--dry-run', '--strategy=reload']);
    planResult = '';
    assert.equal(run.code, 0, run.stderr);
    const params = new URL(deployPosts()[before]!, 'https://x').searchParams;
    assert.equal(params.get('dry_run'), 'true');
    assert.ok(
      run.stdout.endsWith(
        [
          'Plan',
          '',
          'Instance   AZ  Action    Strategy  Reason                                       Download  ',
          'zk/a1 (0)  z1  recreate  reload    stemcell s/1.1 → s/1.2                       50 MiB  ',
          'zk/b2 (1)  z2  recreate  recreate  reload not possible: vm_type needs a new VM  -  ',
          '',
          '2 instances',
          '',
          'Succeeded',
          '',
        ].join('\n'),
      ),
      run.stdout,
    );
  });

  it('uploads the manifest releases named by url that the director lacks, before the diff', async () => {
    const local = join(env.home, 'local.tgz');
    await writeFile(local, 'local release bytes');
    env.server.route(
      'GET /releases',
      json([{ name: 'known', release_versions: [{ version: '3', commit_hash: 'x' }] }]),
    );
    env.server.route('POST /releases', redirectToTask(22));
    serveFinishedTask(env.server, 22);
    const withUrls = join(env.home, 'urls.yml');
    await writeFile(
      withUrls,
      [
        'name: zk',
        'releases:',
        '- {name: known, version: "3", url: "https://example.invalid/known-3.tgz"}',
        '- {name: remote, version: "1", url: "https://example.invalid/remote-1.tgz", sha1: "sha256:cd"}',
        `- {name: local, version: latest, url: "${pathToFileURL(local).href}"}`,
        '- {name: plain, version: "2"}',
        'instance_groups: []',
        '',
      ].join('\n'),
    );
    const from = env.server.requests.length;
    const run = await env.run(['-n', '-d', 'zk', 'deploy', withUrls]);
    assert.equal(run.code, 0, run.stderr);
    const requests = env.server.requests.slice(from).filter((r) => !r.url.startsWith('/tasks/'));
    assert.deepEqual(
      requests.map((r) => `${r.method} ${r.url.split('?')[0]}`),
      ['GET /releases', 'POST /releases', 'POST /releases', 'POST /deployments/zk/diff', 'POST /deployments'],
    );
    assert.deepEqual(JSON.parse(requests[1]!.body.toString()), {
      location: 'https://example.invalid/remote-1.tgz',
      sha1: 'sha256:cd',
    });
    assert.equal(requests[2]!.headers['content-type'], 'application/x-compressed');
    assert.equal(requests[2]!.body.toString(), 'local release bytes');
  });
});
