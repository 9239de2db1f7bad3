import { readdir } from 'node:fs/promises';
import { CpiFailure } from '../cpi-failure.ts';
import { readJsonFile, writeJsonFile } from './json-file.ts';
import { isCid, type StateLayout } from './layout.ts';
import { DiskRecord, StemcellRecord, VmRecord } from './records.ts';

export async function findVm(state: StateLayout, cid: unknown): Promise<VmRecord | null> {
  if (!isCid('vm', cid)) return null;
  return readJsonFile(state.vm(cid).vmFile, VmRecord);
}

export async function requireVm(state: StateLayout, cid: unknown): Promise<VmRecord> {
  const vm = await findVm(state, cid);
  if (vm === null) throw CpiFailure.vmNotFound(String(cid));
  return vm;
}

export async function findDisk(state: StateLayout, cid: unknown): Promise<DiskRecord | null> {
  if (!isCid('disk', cid)) return null;
  return readJsonFile(state.disk(cid).diskFile, DiskRecord);
}

export async function requireDisk(state: StateLayout, cid: unknown): Promise<DiskRecord> {
  const disk = await findDisk(state, cid);
  if (disk === null) throw CpiFailure.diskNotFound(String(cid));
  return disk;
}

export async function saveDisk(state: StateLayout, disk: DiskRecord): Promise<void> {
  await writeJsonFile(state.disk(disk.cid).diskFile, disk);
}

export async function findStemcell(state: StateLayout, cid: unknown): Promise<StemcellRecord | null> {
  if (!isCid('sc', cid)) return null;
  return readJsonFile(state.stemcellFile(cid), StemcellRecord);
}

async function list(dir: string): Promise<string[]> {
  return readdir(dir).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return [];
    throw error;
  });
}

export async function allDisks(state: StateLayout): Promise<DiskRecord[]> {
  const disks = await Promise.all((await list(state.disks)).map((cid) => findDisk(state, cid)));
  return disks.filter((d): d is DiskRecord => d !== null);
}

export async function disksAttachedTo(state: StateLayout, vmCid: string): Promise<string[]> {
  return (await allDisks(state)).filter((d) => d.vm_cid === vmCid).map((d) => d.cid);
}

export async function allStemcells(state: StateLayout): Promise<StemcellRecord[]> {
  const names = (await list(state.stemcells)).filter((n) => n.endsWith('.json'));
  const records = await Promise.all(names.map((n) => findStemcell(state, n.slice(0, -'.json'.length))));
  return records.filter((s): s is StemcellRecord => s !== null);
}

export async function allVmCids(state: StateLayout): Promise<string[]> {
  return (await list(state.vms)).filter((n) => isCid('vm', n));
}
