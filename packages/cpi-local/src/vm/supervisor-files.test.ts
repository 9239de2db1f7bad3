import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LocalVmBoot } from '@refit/protocol';
import { VmRecord } from '../state/records.ts';
import { parseBoot, parseSupervisedVm, SupervisorFileError } from './supervisor-files.ts';

const vm: VmRecord = {
  cid: 'vm-1',
  agent_id: 'a',
  stemcell_cid: 'sc-1',
  networks: { default: { type: 'manual', ip: '127.0.0.5', cloud_properties: {} } },
  cloud_properties: {},
  env: {},
  init_path: '/sbin/refit-init',
  host_busybox: '/usr/bin/busybox',
  boot_timeout_ms: 30000,
  created_at: '2026-01-01T00:00:00Z',
};

describe("the supervisor's zod-free file checks", () => {
  it('read what the CPI writes with the zod schemas', () => {
    const text = JSON.stringify(VmRecord.parse(vm));
    assert.deepEqual(parseSupervisedVm(text), {
      cid: 'vm-1',
      initPath: '/sbin/refit-init',
      hostBusybox: '/usr/bin/busybox',
      bootTimeoutMs: 30000,
      maxBootAttempts: 2,
      commitDeadlineMs: 300_000,
    });
    const withPolicy = JSON.stringify(
      VmRecord.parse({ ...vm, max_boot_attempts: 3, commit_deadline_ms: 5000 }),
    );
    assert.equal(parseSupervisedVm(withPolicy).maxBootAttempts, 3);
    assert.equal(parseSupervisedVm(withPolicy).commitDeadlineMs, 5000);
    for (const boot of [{ lower: '/r/a' }, { lower: '/r/a', fallback: '/r/b', reset_upper: true }]) {
      assert.deepEqual(parseBoot(JSON.stringify(boot)), LocalVmBoot.parse(boot));
    }
  });

  it('refuse what the zod schemas refuse', () => {
    for (const boot of [
      {},
      { lower: '' },
      { lower: '/a', fallback: 3 },
      { lower: '/a', reset_upper: 'yes' },
      [],
    ]) {
      assert.equal(LocalVmBoot.safeParse(boot).success, false, JSON.stringify(boot));
      assert.throws(() => parseBoot(JSON.stringify(boot)), SupervisorFileError);
    }
    for (const bad of [
      { ...vm, init_path: 1 },
      { ...vm, boot_timeout_ms: 0 },
      { ...vm, host_busybox: undefined },
      { ...vm, max_boot_attempts: 0 },
      { ...vm, commit_deadline_ms: 1.5 },
    ]) {
      assert.equal(VmRecord.safeParse(bad).success, false);
      assert.throws(() => parseSupervisedVm(JSON.stringify(bad)), SupervisorFileError);
    }
  });
});
