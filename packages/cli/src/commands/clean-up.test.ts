import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { serveFinishedTask, startCliTestEnv, type CliTestEnv } from '../testing/cli-test-env.ts';
import { json, redirectToTask } from '../testing/local-https-server.ts';

const plan = {
  releases: [{ name: 'app', versions: ['1', '3'] }],
  stemcells: [
    {
      name: 'ubuntu',
      version: '1.20',
      operating_system: 'ubuntu-noble',
      cid: 'sc-1',
      cpi: 'c',
      deployments: [],
      id: 1,
    },
  ],
  compiled_packages: [{ package_name: 'libc', stemcell_os: 'ubuntu-noble', stemcell_version: '0.9' }],
  orphaned_disks: [
    {
      disk_cid: 'disk-1',
      size: 1024,
      az: 'z1',
      deployment_name: 'app',
      instance_name: 'db/1',
      cloud_properties: {},
      orphaned_at: '2026-11-25 01:00:00 UTC',
    },
  ],
  orphaned_vms: [
    {
      az: null,
      cid: 'vm-1',
      deployment_name: 'app',
      instance_name: 'web/2',
      ip_addresses: [],
      orphaned_at: '2026-11-25 01:00:00 UTC',
    },
  ],
  exported_releases: [],
  dns_blobs: [],
  rootfs: [{ name: 'generic', version: '1.20', operating_system: 'ubuntu-noble' }],
};

describe('refit clean-up', () => {
  let env: CliTestEnv;
  before(async () => {
    env = await startCliTestEnv();
    env.server.route('GET /cleanup/dryrun', json(plan));
    env.server.route('POST /cleanup', redirectToTask(9));
    serveFinishedTask(env.server, 9);
  });
  after(() => env.close());

  it('asks first and does nothing on no', async () => {
    const run = await env.run(['--tty', 'clean-up'], { stdin: 'n\n' });
    assert.equal(run.code, 1);
    assert.match(run.stdout, /Continue\? \[yN\]: /);
    assert.ok(!env.requestLines().some((l) => l.startsWith('POST')));
  });

  it('posts the options BOSH posts and follows the task', async () => {
    const before = env.server.requests.length;
    assert.equal((await env.run(['-n', 'clean-up'])).code, 0);
    assert.equal((await env.run(['-n', 'clean-up', '--all', '--keep-orphaned-disks'])).code, 0);
    const posted = env.server.requests
      .slice(before)
      .filter((r) => r.method === 'POST')
      .map((r) => ({
        type: r.headers['content-type'],
        body: JSON.parse(r.body.toString('utf8')) as unknown,
      }));
    assert.deepEqual(posted, [
      { type: 'application/json', body: { config: { remove_all: false, keep_orphaned_disks: false } } },
      { type: 'application/json', body: { config: { remove_all: true, keep_orphaned_disks: true } } },
    ]);
    assert.ok(env.requestLines().includes('GET /tasks/9'));
  });

  it('--dry-run asks nothing, deletes nothing and prints the tables', async () => {
    const before = env.server.requests.length;
    const run = await env.run(['--tty', 'clean-up', '--dry-run', '--all']);
    assert.equal(run.code, 0, run.stderr);
    const lines = env.server.requests.slice(before).map((r) => `${r.method} ${r.url}`);
    assert.ok(
      lines.includes('GET /cleanup/dryrun?remove_all=true&keep_orphaned_disks=false'),
      lines.join('\n'),
    );
    assert.ok(!lines.some((l) => l.startsWith('POST')));
    assert.doesNotMatch(run.stdout, /Continue\?/);
    const titles = [
      ...run.stdout.matchAll(
        /^(Unused [A-Za-z ]+|Exported Releases|Stale DNS Record Blobs|Orphaned Disks|Orphaned VMs)$/gm,
      ),
    ].map((m) => m[1]);
    assert.deepEqual(titles, [
      'Unused Releases',
      'Unused Stemcells',
      'Unused Root Filesystems',
      'Unused Compiled Packages',
      'Exported Releases',
      'Stale DNS Record Blobs',
      'Orphaned Disks',
      'Orphaned VMs',
    ]);
    assert.match(run.stdout, /Name\s+Version\s*\napp\s+1\s*\n~\s+3\s*\n/);
    assert.match(run.stdout, /libc\s+ubuntu-noble\s+0\.9/);
    assert.match(run.stdout, /disk-1\s+app\s+db\/1\s+1024/);
    assert.match(run.stdout, /vm-1\s+app\s+web\/2/);
  });
});
