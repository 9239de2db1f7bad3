import { AgentTimeoutError } from '../agent-client/agent-client.ts';
import type { InactiveDiskRecord, InstanceRecord } from '../deployments/deployment-store.ts';
import { DeploymentStore } from '../deployments/deployment-store.ts';
import type { CurrentDisk } from '../planner/plan-types.ts';
import type { Db } from '../db/db.ts';
import { cpiCall, instanceLabel } from '../updater/instance-label.ts';
import type { UpdaterDeps } from '../updater/updater-ports.ts';
import type { ProblemRecord } from './problem-store.ts';
import {
  describeProblem,
  invalidDescription,
  problemKinds,
  type ProblemType,
  type Resolution,
} from './problem-types.ts';
import { ProblemHandlerError, recreateVm } from './recreate-vm.ts';

/** How long `reboot_vm` waits for the agent after the CPI rebooted the VM (agent_wait_timeout). */
const REBOOT_WAIT_MS = 600_000;

/** A problem as `GET /problems` shows it, with the resources it is about now. */
export interface ProblemView {
  readonly id: number;
  readonly type: ProblemType;
  readonly data: Readonly<Record<string, unknown>>;
  readonly description: string;
  readonly resolutions: readonly Resolution[];
  readonly instanceGroup: string;
  readonly instance: InstanceRecord | null;
  /** For `inactive_disk`: the inactive disk (never `instance.disk`, the active one). */
  readonly inactiveDisk?: CurrentDisk;
}

/**
 * What a stored problem is now. One whose instance or disk is gone, or that no longer holds,
 * becomes `invalid_problem` (resolution `close`), as BOSH's handlers do when they cannot load.
 */
export function viewProblem(
  problem: ProblemRecord,
  instances: readonly InstanceRecord[],
  inactiveDisks: readonly InactiveDiskRecord[] = [],
): ProblemView {
  const instance = instances.find((i) => i.id === problem.instanceId) ?? null;
  const invalid = (error: string): ProblemView => ({
    id: problem.id,
    type: 'invalid_problem',
    data: { original_type: problem.type, error },
    description: invalidDescription(problem.type, problem.resourceId, error),
    resolutions: problemKinds.invalid_problem.resolutions,
    instanceGroup: 'unknown job',
    instance,
  });
  const diskType =
    problem.type === 'missing_disk' ||
    problem.type === 'mount_info_mismatch' ||
    problem.type === 'inactive_disk';
  if (instance === null) {
    return invalid(
      diskType
        ? `Cannot find instance for disk '${problem.resourceId}'`
        : `Instance '${problem.resourceId}' is no longer in the database`,
    );
  }
  const inactiveDisk =
    problem.type === 'inactive_disk'
      ? inactiveDisks.find((d) => d.instanceId === instance.id && d.disk.cid === problem.resourceId)?.disk
      : undefined;
  if (problem.type === 'inactive_disk' && inactiveDisk === undefined) {
    return invalid(
      instance.disk?.cid === problem.resourceId
        ? `Disk '${problem.resourceId}' is no longer inactive`
        : `Disk '${problem.resourceId}' is no longer in the database`,
    );
  }
  if (diskType && problem.type !== 'inactive_disk' && instance.disk?.cid !== problem.resourceId) {
    return invalid(`Disk '${problem.resourceId}' is no longer in the database`);
  }
  if (problem.type === 'unresponsive_agent' && instance.vm === null) {
    return invalid(`VM for '${instanceLabel(instance)}' is no longer in the database`);
  }
  if (problem.type === 'mount_info_mismatch' && instance.vm === null) {
    return invalid(`Can't find corresponding vm-cid for disk '${problem.resourceId}'`);
  }
  return {
    id: problem.id,
    type: problem.type,
    data: diskType ? { ...problem.data } : {},
    description: describeProblem(
      problem.type,
      {
        label: instanceLabel(instance),
        group: instance.group,
        instanceId: instance.id,
        index: instance.index,
        vmCid: instance.vm?.cid ?? null,
        disk: inactiveDisk ?? instance.disk,
      },
      problem.data,
    ),
    resolutions: problemKinds[problem.type].resolutions,
    instanceGroup: instance.group,
    instance,
    ...(inactiveDisk !== undefined ? { inactiveDisk } : {}),
  };
}

/** The resolution a request names, or the type's auto resolution for `null`. */
export function chosenResolution(view: ProblemView, name: string | null): string {
  const chosen = name ?? problemKinds[view.type].auto;
  if (!view.resolutions.some((r) => r.name === chosen)) {
    throw new ProblemHandlerError(`Unknown resolution '${chosen}' for problem type '${view.type}'`);
  }
  return chosen;
}

/** Carries out one resolution (BOSH's problem_handlers/*.rb actions). */
export async function applyResolution(
  db: Db,
  updater: UpdaterDeps,
  view: ProblemView,
  resolution: string,
): Promise<void> {
  if (resolution === 'ignore' || resolution === 'close') return;
  const instance = view.instance;
  if (instance === null) throw new ProblemHandlerError(`Problem ${view.id} has no instance`);
  const label = instanceLabel(instance);
  const name = `${instance.group}/${instance.id}`;
  const vm = instance.vm;
  const store = updater.store;

  if (view.type === 'unresponsive_agent' && vm !== null && (await agentAlive(updater, vm.agentId))) {
    throw new ProblemHandlerError('Agent is responding now, skipping resolution');
  }
  if (view.type === 'inactive_disk') {
    await resolveInactiveDisk(db, updater, view, resolution);
    return;
  }
  switch (resolution) {
    case 'reboot_vm':
    case 'reattach_disk_and_reboot':
    case 'reattach_disk': {
      if (vm === null) throw new ProblemHandlerError(`VM for '${label}' is no longer in the database`);
      if (resolution !== 'reboot_vm') await reattachDisk(updater, instance, resolution === 'reattach_disk');
      if (resolution === 'reattach_disk') return;
      await cpiCall(updater, 'reboot_vm', [vm.cid]);
      await updater.agents.waitUntilReady(vm.agentId, vm.cid, {
        signal: updater.signal,
        timeoutMs: REBOOT_WAIT_MS,
      });
      return;
    }
    case 'recreate_vm':
    case 'recreate_vm_without_wait':
      await recreateVm(db, updater, instance, { wait: resolution === 'recreate_vm' });
      return;
    case 'delete_vm': {
      if (vm === null) throw new ProblemHandlerError(`VM for '${label}' is no longer in the database`);
      if (instance.disk !== null) {
        throw new ProblemHandlerError(
          `'${label}' has persistent disk '${instance.disk.cid}' attached: detach it (or use delete_vm_reference) before deleting the VM`,
        );
      }
      await cpiCall(updater, 'delete_vm', [vm.cid]);
      await store.vmDeleted(instance.id, vm.cid);
      await updater.record({ action: 'delete', objectType: 'vm', objectName: vm.cid, instance: name });
      return;
    }
    case 'delete_vm_reference': {
      if (vm === null) return;
      await store.vmDeleted(instance.id, vm.cid);
      await updater.record({
        action: 'delete',
        objectType: 'vm',
        objectName: vm.cid,
        instance: name,
        context: { reference_only: true },
      });
      return;
    }
    case 'delete_disk_reference':
    case 'delete_disk': {
      const disk = instance.disk;
      if (disk === null) return;
      if (vm !== null && (await cpiCall(updater, 'has_vm', [vm.cid])) !== false) {
        try {
          const listed = await updater.agents.call(vm.agentId, 'list_disk', [], {
            signal: AbortSignal.any([updater.signal, AbortSignal.timeout(10_000)]),
            replyTimeoutMs: 10_000,
          });
          if (listed.includes(disk.cid)) {
            if (resolution === 'delete_disk') throw new ProblemHandlerError('Disk is currently in use');
            await updater.agents.call(vm.agentId, 'unmount_disk', [disk.cid], { signal: updater.signal });
          }
        } catch (error) {
          updater.signal.throwIfAborted();
          if (error instanceof ProblemHandlerError) throw error;
          // An agent stuck on a missing disk: detach anyway, as BOSH does.
        }
        try {
          await cpiCall(updater, 'detach_disk', [vm.cid, disk.cid]);
        } catch {
          // Not attached or already gone.
        }
      }
      if (resolution === 'delete_disk') await cpiCall(updater, 'delete_disk', [disk.cid]);
      await store.diskDeleted(instance.id, disk.cid);
      await updater.record({
        action: 'delete',
        objectType: 'disk',
        objectName: disk.cid,
        instance: name,
        context: resolution === 'delete_disk_reference' ? { reference_only: true } : {},
      });
      return;
    }
    default:
      throw new ProblemHandlerError(`Unknown resolution '${resolution}'`);
  }
}

/**
 * BOSH's `inactive_disk` handler (the new disk of a migration a dead director left):
 * `delete_disk` detaches it (errors ignored: it is going anyway) and orphans it, as BOSH's
 * handler does (kept; `refit delete-disk` or the orphaned-disk cleanup deletes it), refused while
 * the agent has it mounted; `activate_disk` makes it the instance's disk, only when the agent has
 * it mounted and the instance has no active disk (so never while the migration's old disk is
 * still recorded).
 */
async function resolveInactiveDisk(
  db: Db,
  updater: UpdaterDeps,
  view: ProblemView,
  resolution: string,
): Promise<void> {
  const instance = view.instance;
  const disk = view.inactiveDisk;
  if (instance === null || disk === undefined) {
    throw new ProblemHandlerError(`Problem ${view.id} has no inactive disk`);
  }
  const vm = instance.vm;
  const mounted = vm === null ? false : (await listDisk(updater, vm.agentId)).includes(disk.cid);
  switch (resolution) {
    case 'delete_disk': {
      if (mounted) throw new ProblemHandlerError('Disk is currently in use');
      if (vm !== null) {
        await cpiCall(updater, 'detach_disk', [vm.cid, disk.cid]).catch(() => undefined);
        await updater.agents
          .call(vm.agentId, 'remove_persistent_disk', [disk.cid], { signal: updater.signal })
          .catch(() => undefined);
      }
      await updater.store.diskOrphaned(instance.id, disk.cid);
      await updater.record({
        action: 'delete',
        objectType: 'disk',
        objectName: disk.cid,
        instance: `${instance.group}/${instance.id}`,
      });
      return;
    }
    case 'activate_disk': {
      if (!mounted) throw new ProblemHandlerError('Disk is not mounted');
      if (!(await new DeploymentStore(db).activateDisk(instance.id, disk.cid))) {
        throw new ProblemHandlerError('Instance already has an active disk');
      }
      return;
    }
    default:
      throw new ProblemHandlerError(`Unknown resolution '${resolution}'`);
  }
}

/** The agent's mounted disks; an agent that does not answer in 10 s has none (BOSH's guard). */
async function listDisk(updater: UpdaterDeps, agentId: string): Promise<string[]> {
  try {
    return await updater.agents.call(agentId, 'list_disk', [], {
      signal: AbortSignal.any([updater.signal, AbortSignal.timeout(10_000)]),
      replyTimeoutMs: 10_000,
    });
  } catch (error) {
    updater.signal.throwIfAborted();
    if (error instanceof AgentTimeoutError || (error as Error).name === 'TimeoutError') return [];
    throw error;
  }
}

async function agentAlive(updater: UpdaterDeps, agentId: string): Promise<boolean> {
  try {
    await updater.agents.call(agentId, 'ping', [], {
      signal: AbortSignal.any([updater.signal, AbortSignal.timeout(10_000)]),
      replyTimeoutMs: 10_000,
    });
    return true;
  } catch (error) {
    updater.signal.throwIfAborted();
    if (error instanceof AgentTimeoutError || (error as Error).name === 'TimeoutError') return false;
    throw error;
  }
}

/** `attach_disk`, the hint to the agent and (unless it reboots next) `mount_disk`. */
async function reattachDisk(updater: UpdaterDeps, instance: InstanceRecord, mount: boolean): Promise<void> {
  const vm = instance.vm;
  const disk = instance.disk;
  if (vm === null || disk === null)
    throw new ProblemHandlerError(`'${instanceLabel(instance)}' has no VM or disk to reattach`);
  const answered = await cpiCall(updater, 'attach_disk', [vm.cid, disk.cid]);
  const hint = typeof answered === 'string' && answered !== '' ? answered : disk.cid;
  await updater.agents.call(vm.agentId, 'add_persistent_disk', [disk.cid, hint], { signal: updater.signal });
  if (mount) await updater.agents.call(vm.agentId, 'mount_disk', [disk.cid], { signal: updater.signal });
  await updater.record({
    action: 'attach',
    objectType: 'disk',
    objectName: disk.cid,
    instance: `${instance.group}/${instance.id}`,
  });
}
