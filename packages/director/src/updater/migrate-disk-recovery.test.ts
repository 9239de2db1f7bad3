// A director that dies in the middle of a persistent disk migration (disk-steps.ts
// migrateDiskStep, settleInactiveDisks) with the testkit fakes: the new disk is recorded inactive
// right after create_disk, and the next deploy settles it before migrating again.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { manifestValue, type ManifestInput } from '../planner/planner-fixtures.test-support.ts';
import { harness, replan, run } from './updater-harness.test-support.ts';
import type { UpdaterEvent } from './updater-ports.ts';

function group(extra: Record<string, unknown> = {}): ManifestInput {
  const m = manifestValue();
  return { ...m, instance_groups: m.instance_groups.map((g) => ({ ...g, instances: 1, ...extra })) };
}

/** The harness whose `record` throws at one event: the director dies there, running no clean-up. */
function dyingAt(h: ReturnType<typeof harness>, when: (e: UpdaterEvent) => boolean) {
  return {
    ...h,
    deps: {
      ...h.deps,
      record: (e: UpdaterEvent) => (when(e) ? Promise.reject(new Error('director died')) : h.deps.record(e)),
    },
  };
}

const diskCalls = (h: ReturnType<typeof harness>, from = 0) =>
  h.log.entries.slice(from).filter((e) => /_disk|store:(disk|inactive)/.test(e));

describe('updateDeployment: a migration the director did not finish', () => {
  const plan = replan(group(), group({ persistent_disk: 2048 }));

  it('dead after create_disk: the new disk is recorded inactive; the next deploy orphans it and migrates again', async () => {
    const h = harness();
    await assert.rejects(
      run(
        dyingAt(h, (e) => e.action === 'create' && e.objectName === 'disk-1'),
        plan,
      ),
      /director died/,
    );
    assert.ok(h.cloud.disks.has('disk-1'), 'the IaaS has the new disk');
    assert.deepEqual(
      [...h.store.inactive.entries()],
      [['disk-1', { instanceId: 'id-0', disk: { cid: 'disk-1', size: 2048, cloudProperties: {} } }]],
      'recorded, not leaked',
    );
    assert.equal(h.log.matching('cpi:delete_disk').length, 0, 'a dead director cleans nothing up');

    // The agent has it on the migration target, as if the director died during the copy.
    h.agents.mountedDisks.set('agent-id-0', ['disk-id-0', 'disk-1']);
    const from = h.log.entries.length;
    await run(h, plan);
    assert.deepEqual(diskCalls(h, from), [
      'agent:agent-id-0:list_disk',
      'agent:agent-id-0:unmount_disk',
      'cpi:detach_disk:vm-id-0',
      'agent:agent-id-0:remove_persistent_disk',
      'store:diskOrphaned:id-0:disk-1',
      'cpi:create_disk',
      'store:inactiveDiskCreated:id-0:disk-2',
      'cpi:attach_disk:vm-id-0',
      'agent:agent-id-0:add_persistent_disk',
      'cpi:set_disk_metadata:disk-2',
      'agent:agent-id-0:mount_disk',
      'agent:agent-id-0:migrate_disk',
      'store:diskReplaced:id-0:disk-id-0:disk-2',
      'agent:agent-id-0:unmount_disk',
      'cpi:detach_disk:vm-id-0',
      'agent:agent-id-0:remove_persistent_disk',
    ]);
    assert.deepEqual(
      h.agents.calls.filter((c) => c.method === 'unmount_disk').map((c) => c.args[0]),
      ['disk-1', 'disk-id-0'],
    );
    assert.deepEqual(h.store.instances.get('id-0')?.disk, { cid: 'disk-2', size: 2048, cloudProperties: {} });
    assert.equal(h.store.inactive.size, 0);
    // Kept, as BOSH orphans inactive disks: the leftover may hold a full copy of the data.
    assert.deepEqual([...h.store.orphans.keys()].sort(), ['disk-1', 'disk-id-0']);
    assert.equal(h.log.matching('cpi:delete_disk').length, 0);
    assert.equal(h.store.instances.get('id-0')?.completed, true);
  });

  it('dead after migrate_disk, before the switch: the agent has the new disk on the store, so the next deploy makes the switch', async () => {
    const h = harness();
    h.store.crashAt = 'diskReplaced';
    await assert.rejects(run(h, plan), /director died after diskReplaced/);
    assert.deepEqual([...h.store.inactive.keys()], ['disk-1']);
    assert.equal(h.store.instances.get('id-0')?.disk, null, 'the switch never committed');

    h.agents.mountedDisks.set('agent-id-0', ['disk-1']);
    const from = h.log.entries.length;
    await run(h, plan);
    assert.deepEqual(diskCalls(h, from), [
      'agent:agent-id-0:list_disk',
      'store:diskReplaced:id-0:disk-id-0:disk-1',
      'agent:agent-id-0:unmount_disk',
      'cpi:detach_disk:vm-id-0',
      'agent:agent-id-0:remove_persistent_disk',
    ]);
    assert.equal(h.log.matching('cpi:create_disk').length, 1, 'no second migration');
    assert.deepEqual(h.store.instances.get('id-0')?.disk, { cid: 'disk-1', size: 2048, cloudProperties: {} });
    assert.deepEqual([...h.store.orphans.keys()], ['disk-id-0']);
    assert.equal(h.store.inactive.size, 0);
  });

  it('an instance without inactive disks asks its agent nothing more', async () => {
    const h = harness();
    await run(h, plan);
    assert.equal(h.log.matching('agent:agent-id-0:list_disk').length, 0);
  });
});
