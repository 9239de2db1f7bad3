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
 * (`DiskManager#update_disk`): `create_disk` placed with the VM, then the new disk attached as
 * any disk is (CPI `attach_disk`, agent `add_persistent_disk`, `set_disk_metadata`, agent
 * `mount_disk`: with the old disk on /var/vcap/store, the agent mounts the new one on
 * /var/vcap/store_migration_target), then agent `migrate_disk(old, new)` copies the store and
 * mounts the new disk in its place. Only then does the director switch its record to the new
 * disk and orphan the old one (one transaction), then detach the old one; it stays on the IaaS
 * as an orphaned disk, as in BOSH.
 * A failure before the switch removes the new disk again, best effort (unmounted, detached,
 * deleted), and leaves the old one recorded and mounted, so the next deploy starts over from it.
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
  await deps.record({ action: 'create', objectType: 'disk', objectName: cid, instance: instanceName(plan) });
  try {
    await attachDiskStep(deps, plan, vm, cid);
    await deps.agents.call(vm.agentId, 'migrate_disk', [old.cid, cid], { signal: deps.signal });
  } catch (error) {
    await abandonDisk(deps, vm, cid);
    throw error;
  }
  const disk: CurrentDisk = { cid, size: wanted.size, cloudProperties: wanted.cloudProperties };
  await deps.store.diskReplaced(plan.id, old.cid, disk);
  await detachDiskStep(deps, plan, vm, old.cid);
  await deps.record({
    action: 'delete',
    objectType: 'disk',
    objectName: old.cid,
    instance: instanceName(plan),
  });
  return disk;
}

/**
 * Undoes a new disk the director never recorded (so no operator could find it as an orphan):
 * deleted outright. Errors here would hide the one that matters.
 */
async function abandonDisk(deps: UpdaterDeps, vm: StoredVm, cid: string): Promise<void> {
  const call = { signal: deps.signal };
  await deps.agents.call(vm.agentId, 'unmount_disk', [cid], call).catch(() => undefined);
  await cpiCall(deps, 'detach_disk', [vm.cid, cid]).catch(() => undefined);
  await deps.agents.call(vm.agentId, 'remove_persistent_disk', [cid], call).catch(() => undefined);
  await cpiCall(deps, 'delete_disk', [cid]).catch(() => undefined);
}
