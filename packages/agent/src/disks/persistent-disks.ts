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

export function hintPath(hint: DiskHint): string {
  return typeof hint === 'string' ? hint : hint.path;
}

/**
 * The persistent disk at /var/vcap/store. A disk is a directory the CPI made visible in the VM
 * (its hint's path); mounting it is a bind mount. Which CID is mounted is recorded beside the
 * spec and trusted only while /var/vcap/store really is a mount point.
 */
export class PersistentDisks {
  readonly #paths: AgentPaths;
  readonly #settings: SettingsStore;
  readonly #mounter: Mounter;
  readonly #stateFile: string;

  constructor(paths: AgentPaths, settings: SettingsStore, mounter: Mounter) {
    this.#paths = paths;
    this.#settings = settings;
    this.#mounter = mounter;
    this.#stateFile = join(paths.stateDir, 'mounted_disk.json');
  }

  async #recorded(): Promise<z.infer<typeof Mounted> | null> {
    try {
      return Mounted.parse(JSON.parse(await readFile(this.#stateFile, 'utf8')));
    } catch {
      return null;
    }
  }

  /** The CIDs mounted now (zero or one). */
  async list(): Promise<string[]> {
    const recorded = await this.#recorded();
    if (recorded === null) return [];
    return (await this.#mounter.isMountPoint(this.#paths.store)) ? [recorded.cid] : [];
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

  async mount(cid: string): Promise<void> {
    const source = await this.#source(cid);
    const mounted = await this.list();
    if (mounted.includes(cid)) return;
    if (mounted.length > 0) {
      throw new AgentError(
        AgentErrorCode.Disk,
        `disk ${mounted[0]} is already mounted on ${this.#paths.store}; unmount it first`,
      );
    }
    await mkdir(this.#paths.store, { recursive: true });
    await this.#mounter.bind(source, this.#paths.store);
    await writeJsonAtomic(this.#stateFile, { cid, path: source });
  }

  /**
   * At boot, as BOSH's bootstrap does: mount the persistent disk again so jobs find their data
   * before anything starts. The disk recorded as mounted wins; otherwise the only disk the
   * settings know. Answers the CID mounted, or null when there is nothing to mount.
   */
  async mountAtBoot(): Promise<string | null> {
    if ((await this.list()).length > 0) return null;
    const disks = this.#settings.persistentDisks();
    const recorded = await this.#recorded();
    const cids = Object.keys(disks);
    const cid =
      recorded !== null && recorded.cid in disks ? recorded.cid : cids.length === 1 ? cids[0] : undefined;
    if (cid === undefined) return null;
    await this.mount(cid);
    return cid;
  }

  /**
   * `migrate_disk`: the old disk is on /var/vcap/store, the new one only attached. The new disk
   * is mounted on /var/vcap/store_migration_target (BOSH's name), the store copied onto it, both
   * unmounted, and the new disk mounted on the store. Until the last step the old disk stays
   * mounted and recorded, so a failure leaves the instance as it was. A retried call whose
   * migration already happened answers at once.
   */
  async migrate(oldCid: string, newCid: string, signal: AbortSignal): Promise<void> {
    const mounted = await this.list();
    if (mounted.includes(newCid)) return;
    if (!mounted.includes(oldCid)) {
      throw new AgentError(
        AgentErrorCode.Disk,
        `cannot migrate from disk ${oldCid}: it is not mounted on ${this.#paths.store}`,
      );
    }
    const source = await this.#source(newCid);
    const target = join(this.#paths.vcap, 'store_migration_target');
    await mkdir(target, { recursive: true });
    if (await this.#mounter.isMountPoint(target)) await this.#mounter.unmount(target);
    await this.#mounter.bind(source, target);
    try {
      await copyTree(this.#paths.store, target, signal);
    } finally {
      await this.#mounter.unmount(target);
    }
    const recorded = await this.#recorded();
    await this.#mounter.unmount(this.#paths.store);
    try {
      await this.#mounter.bind(source, this.#paths.store);
    } catch (cause) {
      // Put the old disk back so the store is never left empty under the recorded CID.
      if (recorded !== null) await this.#mounter.bind(recorded.path, this.#paths.store);
      throw cause;
    }
    await writeJsonAtomic(this.#stateFile, { cid: newCid, path: source });
  }

  /** Answers BOSH's message; a disk that is not mounted is not an error. */
  async unmount(cid: string): Promise<string> {
    const mounted = await this.list();
    if (!mounted.includes(cid)) return `Partition of ${cid} is not mounted`;
    await this.#mounter.unmount(this.#paths.store);
    await rm(this.#stateFile, { force: true });
    return `Unmounted partition of ${cid}`;
  }
}
