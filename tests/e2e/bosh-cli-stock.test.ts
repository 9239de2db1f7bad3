// Drives the stock Go `bosh` CLI v7 against refit-director, for the commands issue 2 names.
// The CLI is not installable on these machines (no Go toolchain, not on npm or Debian), so the
// test runs only where a binary is provided: REFIT_BOSH_CLI=<path>, `bosh` on PATH, or
// ../shared/tools/bosh beside the repository. Elsewhere it is skipped and says why;
// tests/e2e/bosh-cli-wire.test.ts replays the same requests with Go-strict decoding meanwhile.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import {
  startDirector,
  type DirectorProcess,
} from '../../packages/director/src/api/director-process.test-support.ts';
import { stemcellTgz, sha1 } from '../../packages/director/src/stemcells/upload-fixtures.test-support.ts';
import { createTestCpi } from '@refit/testkit/cpi/test-cpi-fixture.ts';

const run = promisify(execFile);
const repo = join(import.meta.dirname, '..', '..');

function findBoshCli(): string | null {
  const candidates = [
    process.env.REFIT_BOSH_CLI,
    ...(process.env.PATH ?? '').split(delimiter).map((dir) => join(dir, 'bosh')),
    join(repo, '..', 'shared', 'tools', 'bosh'),
  ];
  for (const candidate of candidates) {
    if (candidate === undefined || candidate === '') continue;
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not this one
    }
  }
  return null;
}

const cli = findBoshCli();
const skip =
  cli === null
    ? 'stock bosh CLI v7 not installed (set REFIT_BOSH_CLI or put it in ../shared/tools/bosh)'
    : false;

describe('the stock bosh CLI v7 against refit-director', { skip, timeout: 180_000 }, () => {
  let dir: string;
  let director: DirectorProcess;
  let files: Server;
  let filesPort: number;
  let env: NodeJS.ProcessEnv;

  async function bosh(...args: string[]): Promise<string> {
    const { stdout } = await run(cli!, ['-n', '--tty', ...args], { env, timeout: 60_000 });
    return stdout;
  }
  async function boshJson(...args: string[]): Promise<{ Tables: { Rows: Record<string, string>[] }[] }> {
    return JSON.parse(await bosh('--json', ...args)) as { Tables: { Rows: Record<string, string>[] }[] };
  }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'refit-stock-cli-'));
    // The test CPI with its state in this suite's dir (without --config: $TMPDIR/refit-test-cpi).
    const cpi = await createTestCpi(join(dir, 'cpi'));
    const config = join(dir, 'director.yml');
    await writeFile(
      config,
      `cpi: ${JSON.stringify({ name: 'test-cpi', executable: cpi.command, args: cpi.args })}\n`,
    );
    director = await startDirector({ stateDir: join(dir, 'state'), configFile: config });
    const tarball = await stemcellTgz({ name: 'stock-stemcell', version: '2.1' });
    await writeFile(join(dir, 'stemcell.tgz'), tarball);
    files = createServer((_req, res) => res.end(tarball));
    await new Promise<void>((ok) => files.listen(0, '127.0.0.1', ok));
    const address = files.address();
    filesPort = typeof address === 'object' && address ? address.port : 0;
    env = {
      PATH: process.env.PATH,
      HOME: dir,
      BOSH_ENVIRONMENT: `https://127.0.0.1:${director.port}`,
      BOSH_CA_CERT: director.ca,
      BOSH_CLIENT: director.auth.client,
      BOSH_CLIENT_SECRET: director.auth.secret,
    };
  });
  after(async () => {
    await director?.stop();
    files?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('env and log-in name the user', async () => {
    assert.match(await bosh('env'), /User\s+admin/);
    assert.match(await bosh('log-in'), /Logged in to/);
  });

  it('upload-stemcell (file and URL), stemcells, delete-stemcell', async () => {
    await bosh('upload-stemcell', join(dir, 'stemcell.tgz'));
    const url = `http://127.0.0.1:${filesPort}/s.tgz`;
    const tarball = await stemcellTgz({ name: 'stock-stemcell', version: '2.1' });
    await bosh(
      'upload-stemcell',
      url,
      '--sha1',
      sha1(tarball),
      '--name',
      'stock-stemcell',
      '--version',
      '2.1',
      '--fix',
    );
    const rows = (await boshJson('stemcells')).Tables[0]?.Rows ?? [];
    assert.ok(
      rows.some((r) => r.name === 'stock-stemcell' && r.version === '2.1'),
      JSON.stringify(rows),
    );
    await bosh('delete-stemcell', 'stock-stemcell/2.1');
    const after = (await boshJson('stemcells')).Tables[0]?.Rows ?? [];
    assert.ok(!after.some((r) => r.name === 'stock-stemcell'));
  });

  it('update-cloud-config and cloud-config', async () => {
    const file = join(dir, 'cc.yml');
    await writeFile(file, 'azs:\n- name: z1\n');
    await bosh('update-cloud-config', file);
    assert.match(await bosh('cloud-config'), /name: z1/);
  });

  it('tasks, task, cancel-task, locks, events', async () => {
    const recent = (await boshJson('tasks', '--recent=5')).Tables[0]?.Rows ?? [];
    assert.ok(recent.length > 0);
    const id = recent[0]!.id!;
    assert.match(await bosh('task', id), /Task \d+ done|Succeeded/);
    await assert.rejects(bosh('cancel-task', id), /Cannot cancel task/);
    await bosh('locks');
    const events = (await boshJson('events')).Tables[0]?.Rows ?? [];
    assert.ok(events.some((e) => e.object_type === 'stemcell'));
  });
});
