// The main job (scripts/demo, what `./scripts/quickstart` runs after setup), end to end with a
// private state dir, HOME and a free port: the printed reload table (3 instances reloaded,
// same VM CIDs, 1.1 → 1.2, data checksums identical); the director stays up and serves the
// refit CLI until SIGINT, which deletes the deployment and stops everything (no VM process, no
// mount, no VM directory left). A rerun on the same state dir with --no-wait reuses what is
// there (stemcells not rebuilt, uploads skipped) and cleans up by itself.
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { processesMentioning } from '@refit/cpi-local/testing/host-traces.ts';

const exec = promisify(execFile);
const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const node = join(repo, 'node_modules/node/bin/node');
const refitBin = join(repo, 'packages/cli/bin/refit');

const freePort = () =>
  new Promise<number>((ok, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => ok(typeof address === 'object' && address ? address.port : 0));
    });
  });

interface Demo {
  readonly child: ChildProcess;
  output(): string;
  readonly exited: Promise<number | null>;
  waitFor(pattern: RegExp, timeoutMs: number): Promise<void>;
}

function runDemo(args: readonly string[], home: string): Demo {
  const child = spawn(node, [join(repo, 'scripts/demo/main.ts'), ...args], {
    env: { ...process.env, HOME: home },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((ok) => child.once('exit', (code) => ok(code)));
  return {
    child,
    output: () => out,
    exited,
    async waitFor(pattern, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      while (!pattern.test(out)) {
        if (child.exitCode !== null)
          assert.fail(`demo exited (${child.exitCode}) before ${pattern}:\n${out}`);
        if (Date.now() > deadline) assert.fail(`no ${pattern} after ${timeoutMs} ms:\n${out}`);
        await new Promise((r) => setTimeout(r, 250));
      }
    },
  };
}

const within = <T>(p: Promise<T>, ms: number, what: string) =>
  Promise.race([
    p,
    new Promise<never>((_, fail) =>
      setTimeout(() => fail(new Error(`${what}: not within ${ms} ms`)), ms).unref(),
    ),
  ]);

/** The report's rows: instance, strategy, CIDs, stemcells, downtime, fetched, data. */
function reportRows(out: string): string[] {
  const start = out.indexOf('Instance  ');
  assert.ok(start >= 0, `no report table in:\n${out}`);
  return out.slice(start).split('\n\n')[0]!.split('\n').slice(1);
}

describe(
  'quickstart demo: deploy on 1.1, reload to 1.2 with the refit CLI, leave the director up, stop cleanly',
  { timeout: 1_200_000, skip: process.getuid?.() !== 0 ? 'needs root (namespace VMs)' : false },
  () => {
    let work = '';
    let port = 0;
    let demo: Demo | undefined;
    const state = () => join(work, 'state');

    before(async () => {
      work = await mkdtemp(join(tmpdir(), 'refit-quickstart-'));
      port = await freePort();
    });

    after(async () => {
      if (demo && demo.child.exitCode === null) {
        demo.child.kill('SIGINT');
        await within(demo.exited, 300_000, 'demo cleanup').catch(() => demo?.child.kill('SIGKILL'));
      }
      await rm(work, { recursive: true, force: true });
    });

    it('prints the reload table, serves the CLI afterwards, and SIGINT leaves nothing behind', async () => {
      const home = join(work, 'home');
      demo = runDemo(['--state-dir', state(), '--port', String(port), '--net', '82'], home);
      await demo.waitFor(/Press Ctrl-C here/, 900_000);
      const out = demo.output();
      assert.doesNotMatch(out, /FAILED/);
      const rows = reportRows(out);
      assert.equal(rows.length, 3, out);
      for (const row of rows) {
        assert.match(
          row,
          /^web\/[0-9a-f]{8}…\s+reload\s+\S+ → same\s+refit-quick\/1\.1 → refit-quick\/1\.2\s+\d+\.\d s\s+\d+(\.\d)? [kMG]?B\s+sha256 ok$/,
          row,
        );
      }
      assert.match(out, /Persistent data: 3 of 3 checksums identical/);
      assert.match(out, /Every VM kept its CID\./);
      assert.match(out, /started on Refit refit-minimal stemcell refit-quick 1\.2/);
      assert.match(out, /health monitor: (running|skipped)/);

      // Still serving: the printed commands work with the alias the demo stored in HOME.
      const vms = await exec(refitBin, ['--json', '-e', 'quick', '-d', 'quick', 'vms'], {
        env: { ...process.env, HOME: home },
      });
      const listed = (JSON.parse(vms.stdout) as { Tables: { Rows: Record<string, string>[] }[] }).Tables[0]!
        .Rows;
      assert.deepEqual(
        listed.map((r) => [r['process_state'], r['stemcell']]),
        Array.from({ length: 3 }, () => ['running', 'refit-quick/1.2']),
      );
      assert.equal((await readdir(join(state(), 'director/cpi-local/state/vms'))).length, 3);

      demo.child.kill('SIGINT');
      const code = await within(demo.exited, 300_000, 'demo stop after SIGINT');
      assert.equal(code, 0, demo.output());
      assert.match(demo.output(), /stopped; 0 VM\(s\) and 0 mount\(s\) left on the host/);
      assert.deepEqual(await readdir(join(state(), 'director/cpi-local/state/vms')).catch(() => []), []);
      assert.deepEqual(
        await readdir(join(state(), 'director/cpi-local/state/disks')).catch(() => []),
        [],
        'delete-deployment orphans the disks, and the demo deletes its orphans',
      );
      assert.deepEqual(await processesMentioning(state()), []);
      const mounts = await readFile('/proc/self/mountinfo', 'utf8');
      assert.equal(mounts.includes(state()), false, 'no mount under the state dir');
    });

    it('reruns on the same state dir with --no-wait: reuses stemcells and uploads, cleans up', async () => {
      const built = await stat(join(state(), 'demo/stemcell-1.1/stemcell.tgz'));
      demo = runDemo(
        ['--state-dir', state(), '--port', String(port), '--net', '82', '--no-wait'],
        join(work, 'home'),
      );
      const code = await within(demo.exited, 900_000, 'demo --no-wait');
      const out = demo.output();
      assert.equal(code, 0, out);
      assert.equal(reportRows(out).length, 3);
      assert.match(out, /stopped; 0 VM\(s\) and 0 mount\(s\) left on the host/);
      assert.equal((await stat(join(state(), 'demo/stemcell-1.1/stemcell.tgz'))).mtimeMs, built.mtimeMs);
      assert.match(
        out,
        /already uploaded, skipped: release 1, rootfs 1\.2, stemcell 1\.1, stemcell 1\.2\n/,
        'the rerun uploads nothing',
      );
      assert.doesNotMatch(out, /refit upload-/);
      assert.deepEqual(await processesMentioning(state()), []);
    });
  },
);
