import type { DiskHint } from '@refit/protocol';
import type { CurrentDisk, InstancePlan } from '../planner/plan-types.ts';
import { BugError } from '../errors.ts';
import { cpiCall } from './instance-label.ts';
import type { StoredVm, UpdaterDeps } from './updater-ports.ts';

/** What the disk steps need of an instance (its plan, or an instance row outside a deploy). */
export type InstanceRef = Pick<InstancePlan, 'id' | 'group' | 'index'>;

const instanceName = (plan: InstanceRef) => `${plan.group}/${plan.id}`;

/** `create_disk(size, cloud_properties, vm_cid)`, recorded at once. */
export async function createDiskStep(
  deps: UpdaterDeps,
  plan: InstancePlan,
  vm: StoredVm,
): Promise<CurrentDisk> {
  if (plan.persistentDisk === null) throw new BugError(`instance ${plan.id} wants no persistent disk`);
  const cid = await cpiCall(deps, 'create_disk', [
    plan.persistentDisk.size,
    plan.persistentDisk.cloudProperties,
    vm.cid,
  ]);
  if (typeof cid !== 'string' || cid === '')
    throw new BugError(`create_disk answered ${JSON.stringify(cid)}`);
  const disk: CurrentDisk = {
    cid,
    size: plan.persistentDisk.size,
    cloudProperties: plan.persistentDisk.cloudProperties,
  };
  await deps.store.diskCreated(plan.id, disk);
  await deps.record({ action: 'create', objectType: 'disk', objectName: cid, instance: instanceName(plan) });
  return disk;
}

/** Reference §4.4 A.5: CPI `attach_disk` → agent `add_persistent_disk` → `set_disk_metadata` → `mount_disk`. */
export async function attachDiskStep(
  deps: UpdaterDeps,
  plan: InstanceRef,
  vm: StoredVm,
  diskCid: string,
): Promise<void> {
  const answered = await cpiCall(deps, 'attach_disk', [vm.cid, diskCid]);
  const hint: DiskHint =
    typeof answered === 'string' && answered !== ''
      ? answered
      : typeof answered === 'object' &&
          answered !== null &&
          typeof (answered as { path?: unknown }).path === 'string'
        ? (answered as { path: string })
        : diskCid;
  const call = { signal: deps.signal };
  await deps.agents.call(vm.agentId, 'add_persistent_disk', [diskCid, hint], call);
  await cpiCall(deps, 'set_disk_metadata', [
    diskCid,
    {
      director: 'refit',
      deployment: deps.deployment,
      instance_group: plan.group,
      instance_index: String(plan.index),
      instance_id: plan.id,
    },
  ]);
  await deps.agents.call(vm.agentId, 'mount_disk', [diskCid], call);
  await deps.record({
    action: 'attach',
    objectType: 'disk',
    objectName: diskCid,
    instance: instanceName(plan),
  });
}

/** Reference §4.4 C.3: agent `unmount_disk` → CPI `detach_disk` → agent `remove_persistent_disk`. */
export async function detachDiskStep(
  deps: UpdaterDeps,
  plan: InstanceRef,
  vm: { readonly cid: string; readonly agentId: string },
  diskCid: string,
  agentResponsive = true,
): Promise<void> {
  const call = { signal: deps.signal };
  if (agentResponsive) await deps.agents.call(vm.agentId, 'unmount_disk', [diskCid], call);
  await cpiCall(deps, 'detach_disk', [vm.cid, diskCid]);
  if (agentResponsive) await deps.agents.call(vm.agentId, 'remove_persistent_disk', [diskCid], call);
  await deps.record({
    action: 'detach',
    objectType: 'disk',
    objectName: diskCid,
    instance: instanceName(plan),
  });
}

/**
 * A detached disk (or one whose VM is gone) leaves its instance as BOSH's
 * `OrphanDiskManager#orphan_disk` does: kept, its record moved to the orphaned disks, with
 * BOSH's `delete` disk event. Never `delete_disk`: `refit delete-disk` or the scheduled cleanup
 * deletes it.
 */
export async function orphanDiskStep(deps: UpdaterDeps, plan: InstanceRef, diskCid: string): Promise<void> {
  await deps.store.diskOrphaned(plan.id, diskCid);
  await deps.record({
    action: 'delete',
    objectType: 'disk',
    objectName: diskCid,
    instance: instanceName(plan),
  });
}

/**
 * A persistent disk whose size or cloud properties changed, in BOSH's calls
 * (`DiskManager#update_persistent_disk`): `create_disk` placed with the VM, the new disk recorded
 * at once as an INACTIVE disk of the instance (BOSH's `active: false` row), then attached as any
 * disk is (CPI `attach_disk`, agent `add_persistent_disk`, `set_disk_metadata`, agent
 * `mount_disk`: with the old disk on /var/vcap/store, the agent mounts the new one on
 * /var/vcap/store_migration_target), then agent `migrate_disk(old, new)` copies the store (the
 * agent remounts the old one read-only first) and mounts the new disk in its place. Only then
 * does the director switch the active flags and orphan the old disk (one transaction), then
 * detach the old one; it stays on the IaaS as an orphaned disk, as in BOSH.
 * A failure before the switch removes the new disk again, best effort (unmounted, detached,
 * deleted, its row gone), and leaves the old one recorded and mounted, so the next deploy starts
 * over from it. A director that dies before the switch leaves the inactive row behind: cloud
 * check lists it as `inactive_disk`, and the next deploy settles it first (`settleInactiveDisks`).
 */
export async function migrateDiskStep(
  deps: UpdaterDeps,
  plan: InstancePlan,
  vm: StoredVm,
  old: CurrentDisk,
): Promise<CurrentDisk> {
  const wanted = plan.persistentDisk;
  if (wanted === null) throw new BugError(`instance ${plan.id} wants no persistent disk`);
  const cid = await cpiCall(deps, 'create_disk', [wanted.size, wanted.cloudProperties, vm.cid]);
  if (typeof cid !== 'string' || cid === '')
    throw new BugError(`create_disk answered ${JSON.stringify(cid)}`);
  const disk: CurrentDisk = { cid, size: wanted.size, cloudProperties: wanted.cloudProperties };
  try {
    await deps.store.inactiveDiskCreated(plan.id, disk);
  } catch (error) {
    // Not recorded: nothing else would ever find it.
    await cpiCall(deps, 'delete_disk', [cid]).catch(() => undefined);
    throw error;
  }
  await deps.record({ action: 'create', objectType: 'disk', objectName: cid, instance: instanceName(plan) });
  try {
    await attachDiskStep(deps, plan, vm, cid);
    await deps.agents.call(vm.agentId, 'migrate_disk', [old.cid, cid], { signal: deps.signal });
  } catch (error) {
    await abandonDisk(deps, plan, vm, cid);
    throw error;
  }
  await deps.store.diskReplaced(plan.id, old.cid, disk);
  await retireOldDisk(deps, plan, vm, old.cid);
  return disk;
}

/** After the switch: the old disk detached, with BOSH's `delete` event for its orphaning. */
async function retireOldDisk(deps: UpdaterDeps, plan: InstanceRef, vm: StoredVm, cid: string): Promise<void> {
  await detachDiskStep(deps, plan, vm, cid);
  await deps.record({ action: 'delete', objectType: 'disk', objectName: cid, instance: instanceName(plan) });
}

/**
 * Undoes a migration's new disk after a failure before the switch: unmounted, detached, deleted,
 * and its inactive row gone (best effort: errors here would hide the one that matters; a row left
 * by a failed `delete_disk` stays an `inactive_disk` for cloud check and the next deploy).
 */
async function abandonDisk(deps: UpdaterDeps, plan: InstanceRef, vm: StoredVm, cid: string): Promise<void> {
  const call = { signal: deps.signal };
  await deps.agents.call(vm.agentId, 'unmount_disk', [cid], call).catch(() => undefined);
  await cpiCall(deps, 'detach_disk', [vm.cid, cid]).catch(() => undefined);
  await deps.agents.call(vm.agentId, 'remove_persistent_disk', [cid], call).catch(() => undefined);
  try {
    await cpiCall(deps, 'delete_disk', [cid]);
  } catch {
    return;
  }
  await deps.store.diskDeleted(plan.id, cid).catch(() => undefined);
}

/**
 * The inactive disks a director that died mid-migration left on an instance, settled before
 * anything else touches its disks (BOSH settles them at the end of `update_persistent_disk`;
 * Refit does it first so the agent's migration target is free for a new migration):
 * - the agent reports the inactive disk on /var/vcap/store (its `migrate_disk` finished, only
 *   the switch was missing): the switch is made now, and the old disk detached and orphaned;
 * - otherwise it is unmounted and detached (best effort: on a recreated VM it is attached
 *   nowhere) and orphaned, as BOSH does, never deleted: it may hold a full copy of the data; the
 *   orphaned-disk cleanup or `refit delete-disk` deletes it. The migration then starts over
 *   from the active disk.
 * Answers the instance's active disk afterwards.
 */
export async function settleInactiveDisks(
  deps: UpdaterDeps,
  plan: InstanceRef,
  vm: StoredVm,
  active: CurrentDisk | null,
  agentResponsive: boolean,
): Promise<CurrentDisk | null> {
  const inactive = await deps.store.inactiveDisks(plan.id);
  if (inactive.length === 0) return active;
  const call = { signal: deps.signal };
  const mounted = agentResponsive ? await deps.agents.call(vm.agentId, 'list_disk', [], call) : [];
  let disk = active;
  for (const leftover of inactive) {
    if (disk !== null && mounted[0] === leftover.cid) {
      await deps.store.diskReplaced(plan.id, disk.cid, leftover);
      await retireOldDisk(deps, plan, vm, disk.cid);
      disk = leftover;
      continue;
    }
    if (agentResponsive && mounted.includes(leftover.cid)) {
      await deps.agents.call(vm.agentId, 'unmount_disk', [leftover.cid], call);
    }
    await cpiCall(deps, 'detach_disk', [vm.cid, leftover.cid]).catch(() => undefined);
    if (agentResponsive) {
      await deps.agents
        .call(vm.agentId, 'remove_persistent_disk', [leftover.cid], call)
        .catch(() => undefined);
    }
    await orphanDiskStep(deps, plan, leftover.cid);
  }
  return disk;
}
