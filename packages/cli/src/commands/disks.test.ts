import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startCliTestEnv, type CliTestEnv } from '../testing/cli-test-env.ts';
import { json } from '../testing/local-https-server.ts';

describe('refit disks', () => {
  let env: CliTestEnv;
  before(async () => {
    env = await startCliTestEnv();
    env.server.route(
      'GET /disks',
      json([
        {
          disk_cid: 'disk-old',
          size: 1024,
          az: null,
          deployment_name: 'app',
          instance_name: 'web/abc',
          cloud_properties: {},
          orphaned_at: '2026-11-24 03:00:00 UTC',
        },
        {
          disk_cid: 'disk-new',
          size: 10,
          az: 'z1',
          deployment_name: 'app',
          instance_name: 'db/def',
          cloud_properties: { type: 'ssd' },
          orphaned_at: '2026-11-25 03:00:00 UTC',
        },
      ]),
    );
  });
  after(() => env.close());

  it('lists the orphaned disks newest first with the stock columns', async () => {
    const run = await env.run(['disks', '--orphaned']);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(
      run.stdout,
      [
        'disk-new\t10 MiB \tapp\tdb/def \tz1\tWed Nov 25 03:00:00 UTC 2026\t',
        'disk-old\t1.0 GiB\tapp\tweb/abc\t- \tTue Nov 24 03:00:00 UTC 2026\t',
        '',
      ].join('\n'),
    );
    assert.ok(env.requestLines().includes('GET /disks?orphaned=true'));
  });

  it('shows a header and the count on a terminal; -o is --orphaned', async () => {
    const run = await env.run(['--tty', 'disks', '-o']);
    assert.match(run.stdout, /Disk CID\s+Size\s+Deployment\s+Instance\s+AZ\s+Orphaned At/);
    assert.match(run.stdout, /\n2 disks\n/);
  });

  it('refuses to run without --orphaned, asking nothing of the director', async () => {
    const before = env.requestLines().length;
    const run = await env.run(['disks']);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /Only --orphaned is supported/);
    assert.equal(env.requestLines().length, before);
  });
});
