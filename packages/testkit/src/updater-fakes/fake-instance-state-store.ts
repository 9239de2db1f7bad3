import type { CurrentDisk, IpReservation } from '@refit/director/planner/plan-types.ts';
import type {
  AppliedState,
  InstanceStateStore,
  LeftoverVm,
  StoredVm,
  VmRef,
} from '@refit/director/updater/updater-ports.ts';
import type { CallLog } from './call-log.ts';

/**
 * What the updater recorded, per instance, and the disks it orphaned; calls go to the log as
 * `store:<method>:<id>` (disk
 * calls as `store:<method>:<id>:<disk cid>`; VM calls are not logged, except leftovers and
 * swaps as `store:<method>:<id>:<vm cid>`). `leftovers` survives like the database table would:
 * keep the store and run again to act out a director restart.
 */
export class FakeInstanceStateStore implements InstanceStateStore {
  readonly instances = new Map<
    string,
    { vm: StoredVm | null; disk: CurrentDisk | null; completed: boolean; applied: AppliedState | null }
  >();
  readonly leftovers = new Map<string, LeftoverVm>();
  /** Inactive disks (a migration's new disk before the switch), by cid, with their instance. */
  readonly inactive = new Map<string, { instanceId: string; disk: CurrentDisk }>();
  /** Disks orphaned (kept, no longer any instance's), by cid, with the instance they left. */
  readonly orphans = new Map<string, { instanceId: string; disk: CurrentDisk | null }>();
  /** Leftover VMs orphaned after their swap (the scheduled cleanup deletes these). */
  readonly orphanedVms = new Set<string>();
  /** Reservations released with deleted leftover VMs. */
  readonly releasedIps: IpReservation[] = [];
  readonly #log: CallLog;
  /** Throws from the named method (after logging it) to act out a director dying there. */
  crashAt: string | null = null;

  constructor(log: CallLog) {
    this.#log = log;
  }

  #get(id: string) {
    let row = this.instances.get(id);
    if (!row) {
      row = { vm: null, disk: null, completed: true, applied: null };
      this.instances.set(id, row);
    }
    return row;
  }

  updateStarted(id: string): Promise<void> {
    this.#log.add(`store:updateStarted:${id}`);
    this.#get(id).completed = false;
    return Promise.resolve();
  }
  vmCreated(id: string, vm: StoredVm): Promise<void> {
    this.#get(id).vm = vm;
    return Promise.resolve();
  }
  vmDeleted(id: string): Promise<void> {
    this.#get(id).vm = null;
    return Promise.resolve();
  }
  diskCreated(id: string, disk: CurrentDisk): Promise<void> {
    this.#log.add(`store:diskCreated:${id}:${disk.cid}`);
    this.#get(id).disk = disk;
    return Promise.resolve();
  }
  inactiveDiskCreated(id: string, disk: CurrentDisk): Promise<void> {
    this.#log.add(`store:inactiveDiskCreated:${id}:${disk.cid}`);
    this.inactive.set(disk.cid, { instanceId: id, disk });
    return this.#crash('inactiveDiskCreated');
  }
  inactiveDisks(id: string): Promise<CurrentDisk[]> {
    return Promise.resolve(
      [...this.inactive.values()]
        .filter((d) => d.instanceId === id)
        .map((d) => d.disk)
        .sort((a, b) => a.cid.localeCompare(b.cid)),
    );
  }
  diskDeleted(id: string, cid: string): Promise<void> {
    this.#log.add(`store:diskDeleted:${id}:${cid}`);
    const row = this.#get(id);
    if (row.disk?.cid === cid) row.disk = null;
    this.inactive.delete(cid);
    return Promise.resolve();
  }
  diskOrphaned(id: string, cid: string): Promise<void> {
    this.#log.add(`store:diskOrphaned:${id}:${cid}`);
    const row = this.#get(id);
    const disk = row.disk?.cid === cid ? row.disk : (this.inactive.get(cid)?.disk ?? null);
    this.orphans.set(cid, { instanceId: id, disk });
    if (row.disk?.cid === cid) row.disk = null;
    this.inactive.delete(cid);
    return Promise.resolve();
  }
  /** The switch; `crashAt = 'diskReplaced'` acts out a director dying just before it commits. */
  diskReplaced(id: string, oldCid: string, disk: CurrentDisk): Promise<void> {
    this.#log.add(`store:diskReplaced:${id}:${oldCid}:${disk.cid}`);
    if (this.crashAt === 'diskReplaced') return this.#crash('diskReplaced');
    const row = this.#get(id);
    this.orphans.set(oldCid, { instanceId: id, disk: row.disk?.cid === oldCid ? row.disk : null });
    row.disk = disk;
    this.inactive.delete(disk.cid);
    return Promise.resolve();
  }
  vmLeftover(id: string, vm: VmRef): Promise<void> {
    this.#log.add(`store:vmLeftover:${id}:${vm.cid}`);
    this.leftovers.set(vm.cid, { cid: vm.cid, agentId: vm.agentId, instanceId: id, ips: [] });
    return this.#crash('vmLeftover');
  }
  vmSwapped(id: string, old: VmRef, vm: StoredVm, oldIps: readonly IpReservation[]): Promise<void> {
    this.#log.add(`store:vmSwapped:${id}:${old.cid}:${vm.cid}`);
    this.#get(id).vm = vm;
    this.leftovers.delete(vm.cid);
    this.leftovers.set(old.cid, { cid: old.cid, agentId: old.agentId, instanceId: id, ips: oldIps });
    return this.#crash('vmSwapped');
  }
  vmOrphaned(cid: string): Promise<void> {
    this.#log.add(`store:vmOrphaned:${cid}`);
    if (this.leftovers.has(cid)) this.orphanedVms.add(cid);
    return this.#crash('vmOrphaned');
  }
  leftoverVmDeleted(cid: string): Promise<void> {
    this.#log.add(`store:leftoverVmDeleted:${cid}`);
    this.orphanedVms.delete(cid);
    for (const r of this.leftovers.get(cid)?.ips ?? []) this.releasedIps.push(r);
    this.leftovers.delete(cid);
    return Promise.resolve();
  }
  leftoverVms(): Promise<LeftoverVm[]> {
    const current = new Set([...this.instances.values()].map((r) => r.vm?.cid));
    for (const cid of this.leftovers.keys()) if (current.has(cid)) this.leftovers.delete(cid);
    return Promise.resolve([...this.leftovers.values()]);
  }
  #crash(method: string): Promise<void> {
    if (this.crashAt !== method) return Promise.resolve();
    this.crashAt = null;
    return Promise.reject(new Error(`director died after ${method}`));
  }
  updateCompleted(id: string, applied: AppliedState): Promise<void> {
    this.#log.add(`store:updateCompleted:${id}`);
    const row = this.#get(id);
    row.completed = true;
    row.applied = applied;
    return Promise.resolve();
  }
  instanceDeleted(id: string): Promise<void> {
    this.#log.add(`store:instanceDeleted:${id}`);
    this.instances.delete(id);
    for (const [cid, d] of this.inactive) if (d.instanceId === id) this.inactive.delete(cid);
    return Promise.resolve();
  }
}
