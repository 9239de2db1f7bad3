import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';

const here = dirname(fileURLToPath(import.meta.url));
const bin = join(here, '../bin/refit-stemcell');

function stemcell(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(bin, args, { encoding: 'utf8', env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('refit-stemcell command line', () => {
  it('refuses missing or contradictory flags with exit status 2 and a message', () => {
    const base = ['build', '--name', 'n', '--version', '1', '--os', 'o', '--out', '/tmp/never-written'];
    const noRoot = stemcell(...base);
    assert.equal(noRoot.status, 2);
    assert.match(noRoot.stderr, /exactly one of --root TREE and --base minimal/);
    assert.equal(stemcell(...base, '--root', '/x', '--base', 'minimal').status, 2);
    assert.match(stemcell(...base, '--base', 'maximal').stderr, /--base 'maximal' is unknown/);
    assert.match(
      stemcell('build', '--name', 'a b', '--version', '1', '--os', 'o', '--out', '/x', '--base', 'minimal')
        .stderr,
      /--name 'a b' must match/,
    );
    assert.match(
      stemcell('build', '--version', '1', '--os', 'o', '--out', '/x', '--base', 'minimal').stderr,
      /--name is required/,
    );
    assert.equal(stemcell('frobnicate').status, 2);
    assert.match(
      stemcell(...base, '--base', 'minimal', '--heartbeat-interval', '0').stderr,
      /--heartbeat-interval must be an integer in 1\.\.3600/,
    );
  });

  it('builds from --root and prints the digests it also writes to digests.json', async () => {
    const work = await mkdtemp(join(tmpdir(), 'stemcell-cli-'));
    try {
      await mkdir(join(work, 'tree/etc'), { recursive: true });
      await writeFile(join(work, 'tree/etc/motd'), 'hello\n');
      const r = stemcell(
        'build',
        '--name',
        'cli',
        '--version',
        '2.5',
        '--os',
        'test-os',
        '--out',
        join(work, 'out'),
        '--root',
        join(work, 'tree'),
        '--agent-entry',
        join(here, 'fixtures/fake-agent.ts'),
      );
      assert.equal(r.status, 0, r.stderr);
      const printed = JSON.parse(r.stdout) as { version: string; rootfs: { sha256: string } };
      assert.equal(printed.version, '2.5');
      assert.deepEqual(printed, JSON.parse(await readFile(join(work, 'out/digests.json'), 'utf8')));
      assert.deepEqual((await readdir(join(work, 'out'))).sort(), [
        'digests.json',
        'rootfs.tgz',
        'stemcell.tgz',
      ]);
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  });

  it('fails with exit status 1 and leaves no artifact for a tree that does not exist', async () => {
    const work = await mkdtemp(join(tmpdir(), 'stemcell-cli-'));
    try {
      const r = stemcell(
        'build',
        '--name',
        'cli',
        '--version',
        '1',
        '--os',
        'o',
        '--out',
        join(work, 'out'),
        '--root',
        join(work, 'absent'),
      );
      assert.equal(r.status, 1);
      assert.match(r.stderr, /^refit-stemcell: /);
      assert.deepEqual(await readdir(join(work, 'out')), []);
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  });
});
