import type { CurrentDisk } from '@refit/director/planner/plan-types.ts';
import type { AppliedState, InstanceStateStore, StoredVm } from '@refit/director/updater/updater-ports.ts';
import type { CallLog } from './call-log.ts';

/**
 * What the updater recorded, per instance; calls go to the log as `store:<method>:<id>` (disk
 * calls as `store:<method>:<id>:<disk cid>`; VM calls are not logged).
 */
export class FakeInstanceStateStore implements InstanceStateStore {
  readonly instances = new Map<
    string,
    { vm: StoredVm | null; disk: CurrentDisk | null; completed: boolean; applied: AppliedState | null }
  >();
  readonly #log: CallLog;

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
  diskDeleted(id: string, cid: string): Promise<void> {
    this.#log.add(`store:diskDeleted:${id}:${cid}`);
    const row = this.#get(id);
    if (row.disk?.cid === cid) row.disk = null;
    return Promise.resolve();
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
    return Promise.resolve();
  }
}
