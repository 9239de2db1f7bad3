import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startCliTestEnv, type CliTestEnv } from '../testing/cli-test-env.ts';
import { json } from '../testing/local-https-server.ts';

describe('refit deployments and manifest', () => {
  let env: CliTestEnv;
  before(async () => {
    env = await startCliTestEnv();
    env.server.route(
      'GET /deployments',
      json([
        {
          name: 'zk',
          releases: [
            { name: 'zookeeper', version: '0.0.7' },
            { name: 'bpm', version: '1.2' },
          ],
          stemcells: [{ name: 'refit-local-jammy', version: '1.1' }],
          teams: [],
          cloud_config: 'latest',
        },
        { name: 'app', releases: [], stemcells: null, teams: ['dev', 'ops'] },
      ]),
    );
    env.server.route('GET /deployments/zk', json({ manifest: 'name: zk\ninstance_groups: []\n' }));
  });
  after(() => env.close());

  it('prints Name, Release(s), Stemcell(s), Team(s), one line per item, by name', async () => {
    const run = await env.run(['--tty', 'deployments']);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(
      run.stdout,
      [
        `Using environment '${env.server.url}' as client 'admin'`,
        '',
        'Name  Release(s)       Stemcell(s)            Team(s)  ',
        'app   -                -                      dev  ',
        '                                              ops  ',
        'zk    zookeeper/0.0.7  refit-local-jammy/1.1  -  ',
        '      bpm/1.2                                   ',
        '',
        '2 deployments',
        '',
        'Succeeded',
        '',
      ].join('\n'),
    );
    assert.deepEqual(env.requestLines().slice(-1), ['GET /deployments?exclude_configs=true']);
  });

  it('manifest prints the stored manifest of -d, and needs -d', async () => {
    const run = await env.run(['-d', 'zk', 'manifest']);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, 'name: zk\ninstance_groups: []\n');
    assert.deepEqual(env.requestLines().slice(-1), ['GET /deployments/zk']);
    const missing = await env.run(['manifest']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /Expected non-empty deployment name/);
  });
});
