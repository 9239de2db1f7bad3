import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer as createHttpServer } from 'node:http';
import { request } from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { makeTarball } from '../../packages/cli/src/testing/make-tarball.ts';
import { writeTestStemcell } from './support/test-cpi-director.ts';

/*
 * The refit CLI (its real executable, packages/cli/bin/refit) against the real refit-director
 * process: alias-env, log-in, env, stemcells and rootfs uploads, tasks, events, locks, cancel,
 * cloud config. Every CLI run has a private HOME.
 */

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const refitBin = join(repo, 'packages/cli/bin/refit');
const directorBin = join(repo, 'packages/director/bin/refit-director');

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as { port: number };
  await new Promise<void>((ok) => server.close(() => ok()));
  return port;
}

describe('refit CLI against refit-director', { timeout: 240_000 }, () => {
  let work: string;
  let director: ChildProcess;
  let exited: Promise<void>;
  let url: string;
  let caPath: string;
  let secret: string;

  /** Runs the CLI with a fresh private HOME unless one is given; no BOSH_* leaks in. */
  async function refit(
    argv: readonly string[],
    options: { home?: string; env?: Record<string, string>; stdin?: string } = {},
  ): Promise<Run> {
    const home = options.home ?? (await mkdtemp(join(work, 'home-')));
    const env: Record<string, string> = {
      PATH: process.env['PATH'] ?? '/usr/bin:/bin',
      HOME: home,
      ...options.env,
    };
    return new Promise<Run>((ok) => {
      const child = execFile(refitBin, argv, { env, timeout: 60_000 }, (error, stdout, stderr) =>
        ok({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : -1, stdout, stderr }),
      );
      child.stdin?.end(options.stdin ?? '');
    });
  }

  /** Logged-in environment for one CLI run, through the stock variables. */
  const asAdmin = (): Record<string, string> => ({
    BOSH_ENVIRONMENT: url,
    BOSH_CA_CERT: caPath,
    BOSH_CLIENT: 'admin',
    BOSH_CLIENT_SECRET: secret,
  });

  /** A raw API call (test setup only: queue a long test task). */
  async function api(
    method: string,
    path: string,
    body?: string,
  ): Promise<{ status: number; location: string }> {
    const ca = await readFile(caPath, 'utf8');
    return new Promise((ok, fail) => {
      const req = request(`${url}${path}`, {
        method,
        ca,
        headers: {
          authorization: `Basic ${Buffer.from(`admin:${secret}`).toString('base64')}`,
          'content-type': 'application/json',
        },
      });
      req.on('response', (res) => {
        res.resume();
        res.on('end', () =>
          ok({ status: res.statusCode ?? 0, location: String(res.headers.location ?? '') }),
        );
      });
      req.on('error', fail);
      req.end(body);
    });
  }

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'refit-cli-e2e-'));
    const stateDir = join(work, 'director');
    const port = await freePort();
    // Pin the test CPI (with its own state dir): these tests are about the CLI, not a CPI.
    const cpiConfig = join(work, 'test-cpi.json');
    await writeFile(cpiConfig, JSON.stringify({ state_dir: join(work, 'cpi-state') }));
    const directorConfig = join(work, 'director.yml');
    await writeFile(
      directorConfig,
      `cpi:\n  name: test-cpi\n  executable: ${join(repo, 'packages/testkit/bin/test-cpi')}\n  args: ['--config', '${cpiConfig}']\n`,
    );
    director = spawn(
      directorBin,
      ['--state-dir', stateDir, '--port', String(port), '--config', directorConfig],
      {
        env: { ...process.env, REFIT_DIRECTOR_TEST_TASKS: '1' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    exited = new Promise((ok) => director.once('exit', () => ok()));
    let out = '';
    let err = '';
    director.stderr?.on('data', (c: Buffer) => (err += c.toString()));
    await new Promise<void>((ok, fail) => {
      const timer = setTimeout(() => fail(new Error(`director not ready in 60 s:\n${err}`)), 60_000);
      director.stdout?.on('data', (c: Buffer) => {
        out += c.toString();
        if (out.includes(`director ready: https://127.0.0.1:${port}\n`)) {
          clearTimeout(timer);
          ok();
        }
      });
      director.once('exit', () => {
        clearTimeout(timer);
        fail(new Error(`director exited:\n${err}`));
      });
    });
    url = `https://127.0.0.1:${port}`;
    caPath = join(stateDir, 'ca.pem');
    secret = (
      JSON.parse(await readFile(join(stateDir, 'credentials.json'), 'utf8')) as { client_secret: string }
    ).client_secret;
  });

  after(async () => {
    director.kill('SIGTERM');
    const killer = setTimeout(() => director.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(killer);
    await rm(work, { recursive: true, force: true });
  });

  it('alias-env, log-in (bad then good credentials), env, log-out', async () => {
    const home = await mkdtemp(join(work, 'home-'));
    const aliased = await refit(['--tty', 'alias-env', 'quick', '-e', url, '--ca-cert', caPath], { home });
    assert.equal(aliased.code, 0, aliased.stderr);
    assert.match(aliased.stdout, /^Name +refit/m);
    assert.match(aliased.stdout, /^User +\(not logged in\)/m);

    const bad = await refit(
      ['--tty', '-e', 'quick', 'log-in', '--client', 'admin', '--client-secret', 'wrong'],
      { home },
    );
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /^Failed to login to '.*'\nInvalid credentials\n/);

    const good = await refit(['--tty', '-e', 'quick', 'log-in'], {
      home,
      env: { BOSH_CLIENT: 'admin', BOSH_CLIENT_SECRET: secret },
    });
    assert.equal(good.code, 0, good.stderr);
    assert.match(good.stdout, new RegExp(`Logged in to '${url}'`));
    const config = await readFile(join(home, '.refit', 'config'), 'utf8');
    assert.match(config, /alias: quick/);
    assert.match(config, /client: admin/);

    const shown = await refit(['--tty', '-e', 'quick', 'env'], { home });
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, /^User +admin {2}$/m);

    assert.equal((await refit(['-e', 'quick', 'log-out'], { home })).code, 0);
    const anonymous = await refit(['--tty', '-e', 'quick', 'env'], { home });
    assert.match(anonymous.stdout, /as anonymous user/);
  });

  it('uploads a stemcell (then says it exists), lists it, shows its task, deletes it', async () => {
    const tarball = join(work, 'stemcell.tgz');
    await writeTestStemcell(tarball);
    const uploaded = await refit(['--tty', 'upload-stemcell', tarball], { env: asAdmin() });
    assert.equal(uploaded.code, 0, uploaded.stdout + uploaded.stderr);
    assert.match(uploaded.stdout, /100\.00%/);
    assert.match(
      uploaded.stdout,
      /\| Update stemcell: Uploading stemcell bosh-refit-test-stemcell\/1\.23 to the cloud \(\d\d:\d\d:\d\d\)\n/,
    );
    const taskId = /\nTask (\d+) done\n/.exec(uploaded.stdout)?.[1];
    assert.ok(taskId !== undefined, uploaded.stdout);

    const again = await refit(['--tty', 'upload-stemcell', tarball], { env: asAdmin() });
    assert.match(again.stdout, /Stemcell 'bosh-refit-test-stemcell\/1\.23' already exists\./);

    const listed = await refit(['--json', 'stemcells'], { env: asAdmin() });
    const rows = (JSON.parse(listed.stdout) as { Tables: { Rows: Record<string, string>[] }[] }).Tables[0]
      ?.Rows;
    assert.equal(rows?.length, 1);
    assert.equal(rows?.[0]?.['name'], 'bosh-refit-test-stemcell');
    assert.equal(rows?.[0]?.['version'], '1.23');
    assert.equal(rows?.[0]?.['os'], 'ubuntu-jammy');
    assert.equal(rows?.[0]?.['rootfs'], '');

    const result = await refit(['--tty', 'task', taskId, '--result'], { env: asAdmin() });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, new RegExp(`Task ${taskId}`));

    const recent = await refit(['--tty', 'tasks', '--recent'], { env: asAdmin() });
    assert.match(recent.stdout, new RegExp(`^${taskId} +done .*create stemcell`, 'm'));

    const events = await refit(['--tty', 'events', '--object-type', 'stemcell'], { env: asAdmin() });
    assert.match(events.stdout, /create +stemcell +bosh-refit-test-stemcell\/1\.23/);

    const deleted = await refit(['--tty', '-n', 'delete-stemcell', 'bosh-refit-test-stemcell/1.23'], {
      env: asAdmin(),
    });
    assert.equal(deleted.code, 0, deleted.stdout + deleted.stderr);
    const empty = await refit(['--tty', 'stemcells'], { env: asAdmin() });
    assert.match(empty.stdout, /\n0 stemcells\n/);
  });

  it('uploads a stemcell from a URL with its digest (the director downloads it), and refuses a wrong digest', async () => {
    const image = Buffer.from('remote image');
    const tarball = join(work, 'remote-stemcell.tgz');
    await makeTarball(tarball, [
      {
        name: 'stemcell.MF',
        content:
          'name: bosh-refit-remote-stemcell\nversion: "3.1"\noperating_system: ubuntu-jammy\n' +
          `sha1: ${createHash('sha1').update(image).digest('hex')}\nstemcell_formats: [general-tar]\n`,
      },
      { name: 'image', content: image },
    ]);
    const bytes = await readFile(tarball);
    const files = createHttpServer((req, res) => {
      if (req.url === '/remote-stemcell.tgz')
        res.writeHead(200, { 'content-length': bytes.length }).end(bytes);
      else res.writeHead(404).end();
    });
    await new Promise<void>((ok) => files.listen(0, '127.0.0.1', ok));
    const location = `http://127.0.0.1:${(files.address() as { port: number }).port}/remote-stemcell.tgz`;
    try {
      const wrong = await refit(['--tty', 'upload-stemcell', location, '--sha1', '0'.repeat(40)], {
        env: asAdmin(),
      });
      assert.equal(wrong.code, 1);
      assert.match(wrong.stderr, /Expected task '\d+' to succeed but state is 'error'/);

      const sha1 = createHash('sha1').update(bytes).digest('hex');
      const args = ['--name', 'bosh-refit-remote-stemcell', '--version', '3.1', '--sha1', sha1];
      const good = await refit(['--tty', 'upload-stemcell', location, ...args], { env: asAdmin() });
      assert.equal(good.code, 0, good.stdout + good.stderr);
      assert.match(good.stdout, /Downloading remote stemcell/);
      const again = await refit(['--tty', 'upload-stemcell', location, ...args], { env: asAdmin() });
      assert.match(again.stdout, /Stemcell 'bosh-refit-remote-stemcell\/3\.1' already exists\./);
    } finally {
      await new Promise<void>((ok) => files.close(() => ok()));
    }
    assert.equal(
      (await refit(['-n', 'delete-stemcell', 'bosh-refit-remote-stemcell/3.1'], { env: asAdmin() })).code,
      0,
    );
  });

  it('uploads a generic stemcell (rootfs), shows it in rootfs and in the Rootfs column, deletes it', async () => {
    const rootTar = join(work, 'root.tar');
    await makeTarball(rootTar, [{ name: 'etc/os-release', content: 'ID=refit\n' }], { gzip: false });
    const rootBytes = await readFile(rootTar);
    const rootfsTgz = join(work, 'rootfs.tgz');
    await makeTarball(rootfsTgz, [
      {
        name: 'rootfs.MF',
        content:
          'name: bosh-refit-rootfs-stemcell\nversion: "2.5"\noperating_system: ubuntu-jammy\napi_version: 1\n' +
          `root_archive:\n  path: root.tar\n  sha256: ${createHash('sha256').update(rootBytes).digest('hex')}\ninstall: install\n`,
      },
      { name: 'root.tar', content: rootBytes },
      { name: 'install', content: '#!/bin/sh\nexit 0\n' },
    ]);
    const uploaded = await refit(['--tty', 'upload-rootfs', rootfsTgz], { env: asAdmin() });
    assert.equal(uploaded.code, 0, uploaded.stdout + uploaded.stderr);
    assert.match(uploaded.stdout, /\nTask \d+ done\n/);

    const listed = await refit(['--tty', 'rootfs'], { env: asAdmin() });
    assert.match(listed.stdout, /^bosh-refit-rootfs-stemcell +2\.5 +ubuntu-jammy +[0-9a-f]{64} +\d.* +- *$/m);
    assert.match(listed.stdout, /Signed By/);

    const image = Buffer.from('img');
    const stemcell = join(work, 'stemcell-2.5.tgz');
    await makeTarball(stemcell, [
      {
        name: 'stemcell.MF',
        content:
          'name: bosh-refit-rootfs-stemcell\nversion: "2.5"\noperating_system: ubuntu-jammy\n' +
          `sha1: ${createHash('sha1').update(image).digest('hex')}\nstemcell_formats: [general-tar]\n`,
      },
      { name: 'image', content: image },
    ]);
    assert.equal((await refit(['upload-stemcell', stemcell], { env: asAdmin() })).code, 0);
    const stemcells = await refit(['--tty', 'stemcells'], { env: asAdmin() });
    assert.match(stemcells.stdout, /^bosh-refit-rootfs-stemcell +2\.5 +ubuntu-jammy +\S+ +\S+ +2\.5 {2}$/m);

    assert.equal(
      (await refit(['-n', 'delete-rootfs', 'bosh-refit-rootfs-stemcell/2.5'], { env: asAdmin() })).code,
      0,
    );
    assert.match((await refit(['--tty', 'rootfs'], { env: asAdmin() })).stdout, /\n0 rootfs\n/);
    assert.equal(
      (await refit(['-n', 'delete-stemcell', 'bosh-refit-rootfs-stemcell/2.5'], { env: asAdmin() })).code,
      0,
    );
  });

  it('refuses a rootfs.MF with a wrong digest (director side) with a failed task', async () => {
    const rootfsTgz = join(work, 'bad-rootfs.tgz');
    await makeTarball(rootfsTgz, [
      {
        name: 'rootfs.MF',
        content: `name: bad\nversion: "1"\noperating_system: j\napi_version: 1\nroot_archive:\n  path: root.tar\n  sha256: "${'0'.repeat(64)}"\ninstall: install\n`,
      },
      { name: 'root.tar', content: 'x' },
      { name: 'install', content: '#!/bin/sh\n' },
    ]);
    const run = await refit(['--tty', 'upload-rootfs', rootfsTgz], { env: asAdmin() });
    assert.equal(run.code, 1);
    assert.match(run.stderr, /Expected task '\d+' to succeed but state is 'error'/);
    assert.match(run.stdout, /\nTask \d+ error\n/);
  });

  it('updates and shows the cloud config', async () => {
    const path = join(work, 'cloud.yml');
    await writeFile(path, 'azs:\n- name: z1\nvm_types:\n- name: small\n');
    const updated = await refit(['--tty', 'update-cloud-config', path], { env: asAdmin(), stdin: 'y\n' });
    assert.equal(updated.code, 0, updated.stderr);
    assert.match(updated.stdout, /\+ azs:\n/);
    const shown = await refit(['cloud-config'], { env: asAdmin() });
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, /- name: z1/);
    const unchanged = await refit(['--tty', '-n', 'update-cloud-config', path], { env: asAdmin() });
    assert.equal(unchanged.code, 0);
    assert.doesNotMatch(unchanged.stdout, /^\+ /m);
  });

  it('shows a running task in tasks and its lock in locks, cancels it, and task reports the cancel', async () => {
    const queued = await api(
      'POST',
      '/test_tasks',
      JSON.stringify({ seconds: 120, marker: 'cli-e2e', locks: ['lock:deployment:cli-e2e'] }),
    );
    assert.equal(queued.status, 302);
    const id = /\/tasks\/(\d+)/.exec(queued.location)?.[1];
    assert.ok(id !== undefined);

    let locks = '';
    for (let i = 0; i < 100 && !locks.includes('cli-e2e'); i += 1) {
      locks = (await refit(['--tty', 'locks'], { env: asAdmin() })).stdout;
      if (!locks.includes('cli-e2e')) await new Promise((ok) => setTimeout(ok, 100));
    }
    assert.match(locks, new RegExp(`^deployment +cli-e2e +${id} +\\w{3} `, 'm'));
    const running = await refit(['--tty', 'tasks'], { env: asAdmin() });
    assert.match(running.stdout, new RegExp(`^${id} +(processing|queued) `, 'm'));

    const cancelled = await refit(['cancel-task', id], { env: asAdmin() });
    assert.equal(cancelled.code, 0, cancelled.stderr);
    const followed = await refit(['--tty', 'task', id], { env: asAdmin() });
    assert.equal(followed.code, 1);
    assert.match(followed.stderr, new RegExp(`Expected task '${id}' to succeed but state is 'cancelled'`));

    const unknown = await refit(['task', '999999'], { env: asAdmin() });
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /status code '404'/);
  });
});
