import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { serveFinishedTask, startCliTestEnv, type CliTestEnv } from '../testing/cli-test-env.ts';
import { json, redirectToTask } from '../testing/local-https-server.ts';

const web0 = {
  vm_cid: 'vm-1',
  active: true,
  vm_created_at: '2026-11-24T20:30:00Z',
  disk_cid: 'disk-1',
  disk_cids: ['disk-1'],
  ips: ['127.0.10.2'],
  agent_id: 'agent-1',
  job_name: 'web',
  index: 0,
  job_state: 'running',
  state: 'started',
  vm_type: 'small',
  processes: [
    {
      name: 'nginx',
      state: 'running',
      uptime: { secs: 3723 },
      mem: { kb: 2048, percent: 0.5 },
      cpu: { total: 1.25 },
    },
  ],
  az: 'z1',
  id: 'aaa',
  bootstrap: true,
  ignore: false,
  stemcell: { name: 'refit-local-jammy', version: '1.1', api_version: 3 },
  booted_stemcell: {
    name: 'refit-local-jammy',
    version: '1.2',
    os: 'ubuntu-jammy',
    root_digest: 'sha256:abc',
  },
  vitals: {
    cpu: { sys: '0.3', user: '1.5', wait: '0.0' },
    disk: { system: { percent: '66', inode_percent: '34' }, ephemeral: { percent: '5', inode_percent: '1' } },
    load: ['0.01', '0.02', '0.03'],
    mem: { kb: '1000', percent: '7' },
    swap: { kb: '0', percent: '0' },
    uptime: { secs: 90061 },
  },
};
const web1 = {
  vm_cid: 'vm-2',
  active: null,
  ips: ['127.0.10.3', '127.0.11.3'],
  agent_id: 'agent-2',
  job_name: 'web',
  index: 1,
  job_state: 'failing',
  state: 'started',
  vm_type: 'small',
  processes: [{ name: 'nginx', state: 'failing' }],
  az: 'z2',
  id: 'bbb',
  bootstrap: false,
  ignore: true,
  stemcell: { name: 'refit-local-jammy', version: '1.1' },
};

describe('refit vms and instances', () => {
  let env: CliTestEnv;
  before(async () => {
    env = await startCliTestEnv();
    env.server.route('GET /deployments', json([{ name: 'zk' }, { name: 'app' }]));
    env.server.route('GET /deployments/zk/vms', redirectToTask(31));
    serveFinishedTask(env.server, 31, { result: `${JSON.stringify(web1)}\n${JSON.stringify(web0)}\n` });
    env.server.route('GET /deployments/app/vms', redirectToTask(32));
    serveFinishedTask(env.server, 32, { result: '' });
    env.server.route('GET /deployments/zk/instances', redirectToTask(33));
    serveFinishedTask(env.server, 33, {
      result: `${JSON.stringify(web0)}\n${JSON.stringify({ job_name: 'db', id: 'ccc', index: 0, job_state: 'stopped', az: 'z1', ips: [], disk_cids: [], processes: [] })}\n`,
    });
  });
  after(() => env.close());

  it('vms -d: Instance, Process State, AZ, IPs, VM CID, VM Type, Active, Stemcell, sorted', async () => {
    const run = await env.run(['--tty', '-d', 'zk', 'vms']);
    assert.equal(run.code, 0, run.stderr);
    assert.ok(
      run.stdout.endsWith(
        [
          "Deployment 'zk'",
          '',
          'Instance  Process State  AZ  IPs         VM CID  VM Type  Active  Stemcell  ',
          'web/aaa   running        z1  127.0.10.2  vm-1    small    true    refit-local-jammy/1.1  ',
          'web/bbb   failing        z2  127.0.10.3  vm-2    small    -       refit-local-jammy/1.1  ',
          `${' '.repeat(29)}127.0.11.3${' '.repeat(29)}`,
          '',
          '2 vms',
          '',
          'Succeeded',
          '',
        ].join('\n'),
      ),
      run.stdout,
    );
    assert.deepEqual(
      env.requestLines().filter((l) => l.includes('/deployments')),
      ['GET /deployments/zk/vms?format=full'],
    );
  });

  it('vms without -d lists every deployment, one task and one table each', async () => {
    const from = env.server.requests.length;
    const run = await env.run(['--tty', 'vms']);
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(
      env.server.requests
        .slice(from)
        .filter((r) => r.url.startsWith('/deployments'))
        .map((r) => r.url),
      [
        '/deployments?exclude_configs=true',
        '/deployments/zk/vms?format=full',
        '/deployments/app/vms?format=full',
      ],
    );
    assert.match(
      run.stdout,
      /Deployment 'zk'\n[\s\S]*2 vms\n[\s\S]*Deployment 'app'\n\nInstance {2}Process State[^\n]*\n\n0 vms\n/,
    );
  });

  it('vms --vitals adds the stock vitals columns', async () => {
    const run = await env.run(['--json', '-d', 'zk', 'vms', '--vitals']);
    assert.equal(run.code, 0, run.stderr);
    const document = JSON.parse(run.stdout) as { Tables: { Rows: Record<string, string>[] }[] };
    const row = document.Tables[0]!.Rows.find((r) => r.instance === 'web/aaa')!;
    assert.deepEqual(
      {
        created: row.vm_created_at,
        uptime: row.uptime,
        load: row.load_1m_5m_15m,
        user: row.cpu_user,
        mem: row.memory_usage,
        system: row.system_disk_usage,
        persistent: row.persistent_disk_usage,
      },
      {
        created: 'Tue Nov 24 20:30:00 UTC 2026',
        uptime: '1d 1h 1m 1s',
        load: '0.01, 0.02, 0.03',
        user: '1.5%',
        mem: '7% (1.0 MB)',
        system: '66% (34i%)',
        persistent: '',
      },
    );
  });

  it('instances --details adds State, VM CID, …, Ignore, and Refit Stemcell and Root Digest', async () => {
    const run = await env.run(['--tty', '-d', 'zk', 'instances', '--details']);
    assert.equal(run.code, 0, run.stderr);
    assert.ok(
      run.stdout.endsWith(
        [
          'Instance  Process State  AZ  IPs         Deployment  State    VM CID  VM Type  Disk CIDs  Agent ID  Index  Bootstrap  Ignore  Stemcell  Root Digest  ',
          'db/ccc    stopped        z1  -           zk          -        -       -        -          -         0      false      false   -         -  ',
          'web/aaa   running        z1  127.0.10.2  zk          started  vm-1    small    disk-1     agent-1   0      true       false   1.2       sha256:abc  ',
          '',
          '2 instances',
          '',
          'Succeeded',
          '',
        ].join('\n'),
      ),
      run.stdout,
    );
    assert.ok(env.requestLines().includes('GET /deployments/zk/instances?format=full'));
  });

  it('instances --ps shows a row per process; --failing keeps only what is not running', async () => {
    const run = await env.run(['--tty', '-d', 'zk', 'instances', '--ps']);
    assert.equal(run.code, 0, run.stderr);
    assert.ok(
      run.stdout.endsWith(
        [
          'Instance  Process  Process State  AZ  IPs         Deployment  ',
          'db/ccc    -        stopped        z1  -           zk  ',
          'web/aaa   -        running        z1  127.0.10.2  zk  ',
          '~         nginx    running        -   -           -  ',
          '',
          '3 instances',
          '',
          'Succeeded',
          '',
        ].join('\n'),
      ),
      run.stdout,
    );
    const failing = await env.run(['-d', 'zk', 'instances', '--failing']);
    assert.equal(failing.stdout, 'db/ccc\tstopped\tz1\t-\tzk\t\n');
  });
});
