import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startCliTestEnv, type CliTestEnv } from '../testing/cli-test-env.ts';
import { json } from '../testing/local-https-server.ts';

describe('refit stemcells', () => {
  let env: CliTestEnv;
  before(async () => {
    env = await startCliTestEnv();
    env.server.route(
      'GET /stemcells',
      json([
        {
          name: 'st-b',
          version: '1.9',
          operating_system: 'jammy',
          cpi: '',
          cid: 'c1',
          deployments: [],
          rootfs: null,
        },
        {
          name: 'st-a',
          version: '1.10',
          operating_system: 'jammy',
          cpi: 'local',
          cid: 'c2',
          deployments: [{ name: 'd' }],
          rootfs: { version: '1.10', sha256: 'x', size: 1 },
        },
        { name: 'st-b', version: '1.10', operating_system: 'jammy', cpi: '', cid: 'c3', deployments: [] },
      ]),
    );
  });
  after(() => env.close());

  it('prints the stock table plus Rootfs, sorted name asc / version desc, * for deployed', async () => {
    const run = await env.run(['--tty', 'stemcells']);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(
      run.stdout,
      [
        `Using environment '${env.server.url}' as client 'admin'`,
        '',
        'Name  Version  OS     CPI    CID  Rootfs  ',
        'st-a  1.10*    jammy  local  c2   1.10  ',
        'st-b  1.10     jammy  -      c3   -  ',
        '~     1.9      jammy  -      c1   -  ',
        '',
        '(*) Currently deployed',
        '',
        '3 stemcells',
        '',
        'Succeeded',
        '',
      ].join('\n'),
    );
  });

  it('prints data only when piped, and the stock JSON document with --json', async () => {
    const piped = await env.run(['stemcells']);
    assert.equal(piped.stdout.split('\n')[0], 'st-a\t1.10*\tjammy\tlocal\tc2\t1.10\t');
    const asJson = await env.run(['--json', 'stemcells']);
    const document = JSON.parse(asJson.stdout);
    assert.deepEqual(document.Tables[0].Rows[0], {
      name: 'st-a',
      version: '1.10*',
      os: 'jammy',
      cpi: 'local',
      cid: 'c2',
      rootfs: '1.10',
    });
    assert.deepEqual(document.Lines, [
      `Using environment '${env.server.url}' as client 'admin'`,
      'Succeeded',
    ]);
  });
});
