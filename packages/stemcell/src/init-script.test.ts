import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { buildStemcell } from './build-stemcell.ts';

const here = dirname(fileURLToPath(import.meta.url));

async function waitFor<T>(probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`not reached within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

// Boots the minimal root the way refit-cpi-local does (overlay, own mount/pid/uts/ipc namespaces,
// pivot_root, /sbin/refit-init as pid 1) with an agent that keeps dying.
describe(
  'refit-init in a namespace VM',
  { skip: process.getuid?.() !== 0 ? 'needs root (CI runs as root)' : false },
  () => {
    let work: string;

    before(async () => {
      work = await mkdtemp(join(tmpdir(), 'stemcell-init-'));
      const result = await buildStemcell({
        name: 'refit-init-test',
        version: '3',
        operatingSystem: 'refit-test',
        outDir: join(work, 'out'),
        root: {
          kind: 'minimal',
          busybox: '/bin/busybox',
          node: resolve(here, '../../../node_modules/node/bin/node'),
        },
        agentEntry: join(here, 'fixtures/exiting-agent.ts'),
        stemcellFormat: 'refit-local-tgz',
        compressionLevel: 1,
        mtime: new Date(0),
      });
      for (const dir of ['lower', 'upper/var/vcap/bosh', 'work', 'merged'])
        await mkdir(join(work, dir), { recursive: true });
      execFileSync('sh', [
        '-c',
        `tar -xzOf "$1" image | tar -xzpf - -C "$2"`,
        'sh',
        result.stemcell.path,
        join(work, 'lower'),
      ]);
      await writeFile(join(work, 'upper/var/vcap/bosh/settings.json'), '{"agent_id":"a"}\n');
    });
    after(async () => {
      await rm(work, { recursive: true, force: true });
    });

    it('mounts /proc, /dev, /tmp and starts the agent again each time it dies', async () => {
      const boot = `mount -t overlay overlay -o "lowerdir=$1/lower,upperdir=$1/upper,workdir=$1/work" "$1/merged"
cd "$1/merged" && mkdir -p .oldroot && pivot_root . .oldroot && umount -l /.oldroot && rmdir /.oldroot
exec /sbin/refit-init`;
      const vm = spawn(
        'unshare',
        [
          '--mount',
          '--pid',
          '--uts',
          '--ipc',
          '--fork',
          '--kill-child=SIGKILL',
          '--propagation',
          'private',
          'sh',
          '-c',
          boot,
          'boot',
          work,
        ],
        {
          env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let console = '';
      vm.stdout.on('data', (d: Buffer) => (console += d.toString()));
      const exited = new Promise((r) => vm.once('exit', r));
      try {
        const starts = await waitFor(async () => {
          const lines = (await readFile(join(work, 'upper/var/vcap/data/agent-starts'), 'utf8'))
            .trim()
            .split('\n');
          return lines.length >= 3 ? lines : undefined;
        }, 20_000);
        assert.equal(
          new Set(starts.map((l) => l.split(' ')[0])).size,
          starts.length,
          'each start is a new process',
        );
        assert.match(
          starts[0] ?? '',
          / --settings \/var\/vcap\/bosh\/settings\.json --heartbeat-interval 30$/,
        );
        const mounts = await readFile(join(work, 'upper/var/vcap/data/mounts'), 'utf8');
        assert.match(mounts, /^proc \/proc proc /m);
        assert.match(mounts, /^tmpfs \/tmp tmpfs /m);
        assert.match(mounts, /^tmpfs \/dev tmpfs /m);
        assert.match(console, /refit-init: booted refit-init-test\/3/);
        assert.match(console, /agent exited with 3; starting it again/);
      } finally {
        vm.kill('SIGKILL'); // unshare's child is the VM's pid 1: its death ends the namespace
        await exited;
      }
    });
  },
);
