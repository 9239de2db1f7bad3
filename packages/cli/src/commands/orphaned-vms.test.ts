import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startCliTestEnv, type CliTestEnv } from '../testing/cli-test-env.ts';
import { json } from '../testing/local-https-server.ts';

describe('refit orphaned-vms', () => {
  let env: CliTestEnv;
  before(async () => {
    env = await startCliTestEnv();
    env.server.route(
      'GET /orphaned_vms',
      json([
        {
          az: 'z1',
          cid: 'vm-new',
          deployment_name: 'app',
          instance_name: 'web/abc',
          ip_addresses: ['10.0.0.2', '10.0.1.2'],
          orphaned_at: '2026-11-25 03:00:00 UTC',
        },
        {
          az: null,
          cid: 'vm-old',
          deployment_name: 'app',
          instance_name: 'web/def',
          ip_addresses: [],
          orphaned_at: '2026-11-24 03:00:00 UTC',
        },
      ]),
    );
  });
  after(() => env.close());

  it('lists them oldest first with the stock columns, several IPs on lines of their own', async () => {
    const run = await env.run(['orphaned-vms']);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(
      run.stdout,
      [
        'vm-old\tapp\tweb/def\t- \t-       \tTue Nov 24 03:00:00 UTC 2026\t',
        'vm-new\tapp\tweb/abc\tz1\t10.0.0.2\tWed Nov 25 03:00:00 UTC 2026\t',
        '      \t   \t       \t  \t10.0.1.2\t\t',
        '',
      ].join('\n'),
    );
  });

  it('shows a header and the count on a terminal', async () => {
    const run = await env.run(['--tty', 'orphaned-vms']);
    assert.match(run.stdout, /VM CID\s+Deployment\s+Instance\s+AZ\s+IPs\s+Orphaned At/);
    assert.match(run.stdout, /\n2 orphaned_vms\n/);
  });
});
