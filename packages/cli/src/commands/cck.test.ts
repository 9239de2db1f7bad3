import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { serveFinishedTask, startCliTestEnv, type CliTestEnv } from '../testing/cli-test-env.ts';
import { json, redirectToTask } from '../testing/local-https-server.ts';

const problems = [
  {
    id: 4,
    type: 'unresponsive_agent',
    data: {},
    description: "VM for 'web/abc (0)' with cloud ID 'c-1' is not responding.",
    resolutions: [
      { name: 'ignore', plan: 'Skip for now' },
      { name: 'reboot_vm', plan: 'Reboot VM' },
      { name: 'recreate_vm', plan: 'Recreate VM and wait for processes to start' },
    ],
    instance_group: 'web',
  },
  {
    id: 5,
    type: 'missing_disk',
    data: {},
    description: "Disk 'd-1' (web/abc, 1024M) is missing",
    resolutions: [
      { name: 'ignore', plan: 'Skip for now' },
      { name: 'delete_disk_reference', plan: 'Delete disk reference (DANGEROUS!)' },
    ],
    instance_group: 'web',
  },
];

describe('refit cck', () => {
  let env: CliTestEnv;
  let current: unknown[] = problems;
  before(async () => {
    env = await startCliTestEnv();
    env.server.route('POST /deployments/dep/scans', redirectToTask(7));
    serveFinishedTask(env.server, 7, { result: 'scan complete' });
    env.server.route('GET /deployments/dep/problems', (req, res) => json(current)(req, res));
    env.server.route('PUT /deployments/dep/problems', redirectToTask(8));
    serveFinishedTask(env.server, 8, { result: '2 resolved' });
    env.server.route('PUT /resurrection', json({}));
  });
  beforeEach(() => {
    current = problems;
  });
  after(() => env.close());

  const sentResolutions = () => {
    const put = env.server.requests.filter((r) => r.method === 'PUT' && r.url.endsWith('/problems')).at(-1);
    assert.ok(put);
    return JSON.parse(put.body.toString('utf8')) as unknown;
  };

  it('--report scans, prints # | Type | Description and fails when there are problems', async () => {
    const run = await env.run(['--tty', '-d', 'dep', 'cck', '--report']);
    assert.equal(run.code, 1);
    assert.match(run.stdout, /#\s+Type\s+Description/);
    assert.match(
      run.stdout,
      /4\s+unresponsive_agent\s+VM for 'web\/abc \(0\)' with cloud ID 'c-1' is not responding\./,
    );
    assert.match(run.stdout, /2 problems/);
    assert.match(run.stderr, /2 problem\(s\) found/);
    assert.ok(env.requestLines().includes('POST /deployments/dep/scans'));
    assert.ok(!env.requestLines().some((l) => l.startsWith('PUT')));
    current = [];
    const clean = await env.run(['--tty', '-d', 'dep', 'cck', '--report']);
    assert.equal(clean.code, 0, clean.stderr);
    assert.match(clean.stdout, /0 problems/);
  });

  it('--auto sends null for every problem', async () => {
    const run = await env.run(['-n', '-d', 'dep', 'cck', '--auto']);
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(sentResolutions(), { resolutions: { '4': null, '5': null } });
  });

  it('--resolution picks by name, ignore where a problem lacks it', async () => {
    const run = await env.run(['-n', '-d', 'dep', 'cck', '--resolution', 'delete_disk_reference']);
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(sentResolutions(), { resolutions: { '4': 'ignore', '5': 'delete_disk_reference' } });
  });

  it('--resolution repeated: each problem gets the first given name it offers', async () => {
    const run = await env.run([
      '-n',
      '-d',
      'dep',
      'cck',
      '--resolution',
      'recreate_vm',
      '--resolution=delete_disk_reference',
      '--resolution',
      'reboot_vm',
    ]);
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(sentResolutions(), {
      resolutions: { '4': 'recreate_vm', '5': 'delete_disk_reference' },
    });
    // The order given decides between two names a problem offers.
    await env.run(['-n', '-d', 'dep', 'cck', '--resolution', 'reboot_vm', '--resolution', 'recreate_vm']);
    assert.deepEqual(sentResolutions(), { resolutions: { '4': 'reboot_vm', '5': 'ignore' } });
    const mixed = await env.run(['-n', '-d', 'dep', 'cck', '--auto', '--resolution', 'reboot_vm']);
    assert.equal(mixed.code, 1);
    assert.match(mixed.stderr, /Only one of --auto and --resolution/);
  });

  it('asks for each problem among its plans, then confirms', async () => {
    const run = await env.run(['--tty', '-d', 'dep', 'cck'], { stdin: '2\n9\n2\ny\n' });
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, / {2}2\. Reboot VM/);
    assert.match(run.stdout, /Please choose a resolution \[1 - 3\]/);
    assert.deepEqual(sentResolutions(), { resolutions: { '4': 'reboot_vm', '5': 'delete_disk_reference' } });
  });

  it('needs -d; update-resurrection sends resurrection_paused', async () => {
    const run = await env.run(['cck']);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /Expected non-empty deployment name/);
    assert.equal((await env.run(['update-resurrection', 'off'])).code, 0);
    const put = env.server.requests.filter((r) => r.url === '/resurrection').at(-1);
    assert.deepEqual(JSON.parse(put?.body.toString('utf8') ?? 'null'), { resurrection_paused: true });
    assert.equal((await env.run(['update-resurrection', 'maybe'])).code, 1);
  });
});
