import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { LocalProcessId, LocalVmStatus } from '@refit/protocol';
import type { CpiContext } from '../context.ts';
import type { LocalCpiConfig } from '../config.ts';
import { processId } from '../host/process.ts';
import { writeJsonFile } from '../state/json-file.ts';
import { newCid, StateLayout } from '../state/layout.ts';
import type { VmRecord } from '../state/records.ts';
import { hasVm } from './has-vm.ts';

describe('has_vm', () => {
  let root = '';
  let state: StateLayout;
  const children: ChildProcess[] = [];
  const ctx = (): CpiContext => ({
    config: {} as LocalCpiConfig,
    state,
    signal: AbortSignal.timeout(10_000),
    log: () => {},
  });
  /** A real process standing in for a supervisor, unshare or init. */
  const live = async (): Promise<{ child: ChildProcess; id: LocalProcessId }> => {
    const child = spawn('sleep', ['300'], { stdio: 'ignore' });
    children.push(child);
    await once(child, 'spawn');
    const id = await processId(child.pid!);
    assert.ok(id);
    return { child, id };
  };
  const dead = async (): Promise<LocalProcessId> => {
    const { child, id } = await live();
    child.kill('SIGKILL');
    await once(child, 'exit');
    return id;
  };
  const vm = async (status: Partial<LocalVmStatus> | null): Promise<string> => {
    const cid = newCid('vm');
    const layout = state.vm(cid);
    await mkdir(layout.dir, { recursive: true });
    const record: VmRecord = {
      cid,
      agent_id: 'agent-1',
      stemcell_cid: newCid('sc'),
      networks: {},
      cloud_properties: {},
      env: {},
      init_path: '/sbin/init',
      host_busybox: '/bin/busybox',
      boot_timeout_ms: 1000,
      created_at: new Date().toISOString(),
    };
    await writeJsonFile(layout.vmFile, record);
    if (status !== null) {
      await writeJsonFile(layout.statusFile, {
        power: 'running',
        boots: 1,
        unshare: null,
        init: null,
        lower: null,
        last_exit: null,
        message: null,
        updated_at: new Date().toISOString(),
        ...status,
      });
    }
    return cid;
  };

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'refit-has-vm-'));
    state = new StateLayout(root);
  });
  after(async () => {
    for (const child of children) child.kill('SIGKILL');
    await rm(root, { recursive: true, force: true });
  });

  it('is true while the supervisor lives', async () => {
    const supervisor = await live();
    assert.equal(await hasVm.run(ctx(), [await vm({ supervisor: supervisor.id })]), true);
  });

  it('is true when only the supervisor was killed and the VM still runs', async () => {
    const init = await live();
    const cid = await vm({ supervisor: await dead(), unshare: await dead(), init: init.id });
    assert.equal(await hasVm.run(ctx(), [cid]), true);
  });

  it('is false when the supervisor and every process of the VM are gone (a VM the IaaS lost)', async () => {
    const cid = await vm({ supervisor: await dead(), unshare: await dead(), init: await dead() });
    assert.equal(await hasVm.run(ctx(), [cid]), false);
  });

  it('is true for a VM powered off from inside, waiting for reboot_vm', async () => {
    const cid = await vm({ power: 'off', supervisor: await dead(), unshare: null, init: null });
    assert.equal(await hasVm.run(ctx(), [cid]), true);
  });

  it('is true for a VM not booted yet, false for no record or a CID not ours', async () => {
    assert.equal(await hasVm.run(ctx(), [await vm(null)]), true);
    assert.equal(await hasVm.run(ctx(), [newCid('vm')]), false);
    assert.equal(await hasVm.run(ctx(), ['../etc']), false);
  });
});
