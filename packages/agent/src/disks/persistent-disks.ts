import { mkdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import type { DiskHint } from '@refit/protocol';
import { AgentError, AgentErrorCode } from '../errors.ts';
import type { AgentPaths } from '../paths.ts';
import { writeJsonAtomic, type SettingsStore } from '../settings.ts';
import { copyTree } from './copy-tree.ts';
import type { Mounter } from './mounter.ts';

const Mounted = z.object({ cid: z.string(), path: z.string() });
type Mounted = z.infer<typeof Mounted>;

/** A mount point and the file recording which disk is mounted on it. */
interface Place {
  readonly dir: string;
  readonly stateFile: string;
}

export function hintPath(hint: DiskHint): string {
  return typeof hint === 'string' ? hint : hint.path;
}

/**
 * The persistent disk at /var/vcap/store, and during a migration the new disk at
 * /var/vcap/store_migration_target (the Go agent's names). A disk is a directory the CPI made
 * visible in the VM (its hint's path); mounting it is a bind mount. Which CID is mounted where is
 * recorded beside the spec and trusted only while the place really is a mount point.
 */
export class PersistentDisks {
  readonly #settings: SettingsStore;
  readonly #mounter: Mounter;
  readonly #store: Place;
  readonly #target: Place;

  constructor(paths: AgentPaths, settings: SettingsStore, mounter: Mounter) {
    this.#settings = settings;
    this.#mounter = mounter;
    this.#store = { dir: paths.store, stateFile: join(paths.stateDir, 'mounted_disk.json') };
    this.#target = {
      dir: join(paths.vcap, 'store_migration_target'),
      stateFile: join(paths.stateDir, 'migration_target_disk.json'),
    };
  }

  /** The disk mounted at a place, or null when the record is missing or the mount is gone. */
  async #mountedAt(place: Place): Promise<Mounted | null> {
    const recorded = await this.#recorded(place);
    if (recorded === null) return null;
    return (await this.#mounter.isMountPoint(place.dir)) ? recorded : null;
  }

  async #bind(place: Place, cid: string, source: string): Promise<void> {
    await mkdir(place.dir, { recursive: true });
    if (await this.#mounter.isMountPoint(place.dir)) await this.#mounter.unmount(place.dir);
    await this.#mounter.bind(source, place.dir);
    await writeJsonAtomic(place.stateFile, { cid, path: source });
  }

  async #unbind(place: Place): Promise<void> {
    await this.#mounter.unmount(place.dir);
    await rm(place.stateFile, { force: true });
  }

  /** The CIDs mounted now: the store's first, then a migration target's (as the Go agent lists both). */
  async list(): Promise<string[]> {
    const store = await this.#mountedAt(this.#store);
    const target = await this.#mountedAt(this.#target);
    return [store?.cid, target?.cid].filter((cid): cid is string => cid !== undefined);
  }

  /** The directory the CPI made visible for a disk (its hint), checked. */
  async #source(cid: string): Promise<string> {
    const hint = this.#settings.persistentDisks()[cid];
    if (hint === undefined) {
      throw new AgentError(
        AgentErrorCode.Disk,
        `Persistent disk with cid '${cid}' could not be found in settings`,
      );
    }
    const source = hintPath(hint);
    try {
      if (!(await stat(source)).isDirectory()) throw new Error('not a directory');
    } catch (cause) {
      throw new AgentError(
        AgentErrorCode.Disk,
        `disk ${cid}: hint path ${source} is not a visible directory`,
        { cause },
      );
    }
    return source;
  }

  /**
   * `mount_disk`, as the Go agent does it: on /var/vcap/store, or, when another disk is already
   * mounted there, on /var/vcap/store_migration_target (the director then sends `migrate_disk`).
   * A disk already mounted where it belongs is left as it is. Answers where it is mounted.
   */
  async mount(cid: string): Promise<string> {
    const source = await this.#source(cid);
    const store = await this.#mountedAt(this.#store);
    if (store?.cid === cid) return this.#store.dir;
    if (store === null) {
      await this.#bind(this.#store, cid, source);
      return this.#store.dir;
    }
    const target = await this.#mountedAt(this.#target);
    if (target?.cid !== cid) await this.#bind(this.#target, cid, source);
    return this.#target.dir;
  }

  /**
   * At boot, as BOSH's bootstrap does: mount the persistent disk again so jobs find their data
   * before anything starts. The disk recorded as mounted wins; otherwise the only disk the
   * settings know. Answers the CID mounted, or null when there is nothing to mount.
   */
  async mountAtBoot(): Promise<string | null> {
    if ((await this.#mountedAt(this.#store)) !== null) return null;
    const disks = this.#settings.persistentDisks();
    const recorded = await this.#recorded(this.#store);
    const cids = Object.keys(disks);
    const cid =
      recorded !== null && recorded.cid in disks ? recorded.cid : cids.length === 1 ? cids[0] : undefined;
    if (cid === undefined) return null;
    await this.#bind(this.#store, cid, await this.#source(cid));
    return cid;
  }

  async #recorded(place: Place): Promise<Mounted | null> {
    try {
      return Mounted.parse(JSON.parse(await readFile(place.stateFile, 'utf8')));
    } catch {
      return null;
    }
  }

  /**
   * `migrate_disk(old, new)`: the old disk is on /var/vcap/store; the new one is on
   * /var/vcap/store_migration_target when the director sent `mount_disk` first (BOSH does), and
   * is mounted there now otherwise. The store is remounted read-only (BOSH's agent does too), copied
   * onto the new disk, the target unmounted, and the new disk mounted on the store in place of the
   * old one. A failed copy unmounts the target and leaves the old disk mounted read-write and
   * recorded, so the instance is as it was. A retried call whose
   * migration already happened answers at once.
   */
  async migrate(oldCid: string, newCid: string, signal: AbortSignal): Promise<void> {
    const store = await this.#mountedAt(this.#store);
    if (store?.cid === newCid) return;
    if (store?.cid !== oldCid) {
      throw new AgentError(
        AgentErrorCode.Disk,
        `cannot migrate from disk ${oldCid}: it is not mounted on ${this.#store.dir}`,
      );
    }
    const source = await this.#source(newCid);
    const target = await this.#mountedAt(this.#target);
    if (target?.cid !== newCid) await this.#bind(this.#target, newCid, source);
    // As BOSH's agent does: the old store goes read-only before the copy, so a process still
    // writing there (jobs are stopped by now) fails instead of changing what is being copied.
    try {
      await this.#mounter.remount(this.#store.dir, { readOnly: true });
      await copyTree(this.#store.dir, this.#target.dir, signal);
    } catch (error) {
      await this.#unbind(this.#target).catch(() => undefined);
      await this.#mounter.remount(this.#store.dir, { readOnly: false }).catch(() => undefined);
      throw error;
    }
    await this.#unbind(this.#target);
    await this.#mounter.unmount(this.#store.dir);
    try {
      await this.#mounter.bind(source, this.#store.dir);
    } catch (cause) {
      // Put the old disk back so the store is never left empty under the recorded CID.
      await this.#mounter.bind(store.path, this.#store.dir);
      throw cause;
    }
    await writeJsonAtomic(this.#store.stateFile, { cid: newCid, path: source });
  }

  /** Answers BOSH's message; a disk that is not mounted (on the store or the target) is not an error. */
  async unmount(cid: string): Promise<string> {
    for (const place of [this.#store, this.#target]) {
      if ((await this.#mountedAt(place))?.cid !== cid) continue;
      await this.#unbind(place);
      return `Unmounted partition of ${cid}`;
    }
    return `Partition of ${cid} is not mounted`;
  }
}
