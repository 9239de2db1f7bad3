import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { RootfsBootState } from '@refit/protocol';
import { VmLayout } from '../state/layout.ts';
import { bootNextFile, bootStateFile, chooseRoot, stillUncommitted } from './staged-root.ts';

const sha = (c: string) => c.repeat(64);

describe('the staged-root boot step', () => {
  let dir: string;
  let vm: VmLayout;
  let stemcell: string;
  let boot = 0;
  const choose = () => chooseRoot(vm, stemcell, '/sbin/refit-init', { maxBootAttempts: 2 }, ++boot);
  const state = async () => RootfsBootState.parse(JSON.parse(await readFile(bootStateFile(vm), 'utf8')));
  const stage = async (c: string, version: string) => {
    const root = `/var/vcap/data/rootfs/roots/${sha(c)}`;
    await mkdir(join(vm.ephemeral, root.slice('/var/vcap/data/'.length), 'sbin'), { recursive: true });
    await writeFile(
      join(vm.ephemeral, root.slice('/var/vcap/data/'.length), 'sbin/refit-init'),
      '#!/bin/sh\n',
    );
    await mkdir(join(vm.ephemeral, 'sys/boot'), { recursive: true });
    await writeFile(
      bootNextFile(vm),
      JSON.stringify({
        format: 1,
        root,
        name: 'sc',
        version,
        operating_system: 'os',
        root_archive_sha256: sha(c),
        init: '/sbin/refit-init',
        fallback: { root: 'current', name: 'sc', version: '1' },
        boot_attempts_before_fallback: 5,
      }),
    );
    return root;
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'staged-root-'));
    vm = new VmLayout(join(dir, 'vm'));
    stemcell = join(dir, 'stemcell-root');
    await mkdir(vm.ephemeral, { recursive: true });
    await mkdir(stemcell, { recursive: true });
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('boots the stemcell root while nothing was staged', async () => {
    const choice = await choose();
    assert.deepEqual(choice, { lower: stemcell, resetUpper: false, pending: null, notes: [] });
  });

  it('boots a staged root with a clean upper, counts attempts, and falls back when they are used up', async () => {
    const root = await stage('a', '2');
    const first = await choose();
    assert.equal(first.lower, join(vm.ephemeral, root.slice('/var/vcap/data/'.length)));
    assert.equal(first.resetUpper, true);
    assert.equal(first.pending?.version, '2');
    assert.equal((await state()).pending?.attempts, 1);
    assert.equal((await state()).pending?.max_attempts, 2, 'the CPI policy caps the record');
    assert.equal(await stillUncommitted(vm, first.pending), true);
    const second = await choose();
    assert.equal(second.lower, first.lower);
    assert.equal(second.resetUpper, false);
    const third = await choose();
    assert.equal(third.lower, stemcell, 'back on the stemcell root');
    assert.equal(third.resetUpper, true);
    const s = await state();
    assert.equal(s.pending, null);
    assert.equal(s.abandoned.at(-1)?.version, '2');
    assert.match(s.abandoned.at(-1)?.reason ?? '', /not committed after 2/);
    assert.equal(s.booted?.version, '1');
  });

  it('keeps booting a committed root, and its predecessor when it disappears', async () => {
    const root = await stage('b', '3');
    await choose();
    const s = await state();
    // What the agent's commit does.
    const { attempts: _a, max_attempts: _m, ...committed } = s.pending!;
    await writeFile(
      bootStateFile(vm),
      JSON.stringify({
        ...s,
        previous: s.current,
        current: committed,
        pending: null,
        booted: { ...s.booted, kind: 'current' },
      }),
    );
    for (let i = 0; i < 3; i++) {
      const c = await choose();
      assert.equal(c.pending, null);
      assert.equal(c.lower, join(vm.ephemeral, root.slice('/var/vcap/data/'.length)));
    }
    await rm(join(vm.ephemeral, 'rootfs'), { recursive: true });
    const gone = await choose();
    assert.equal(gone.lower, stemcell);
    assert.equal(gone.resetUpper, true);
  });

  it('ignores an invalid record and an unreadable state without failing the boot', async () => {
    await writeFile(bootNextFile(vm), '{"format":1,"root":"/etc"}');
    await writeFile(bootStateFile(vm), 'garbage');
    const c = await choose();
    assert.equal(c.lower, stemcell);
    assert.ok(c.notes.some((n) => /not a valid boot record/.test(n)));
  });
});
