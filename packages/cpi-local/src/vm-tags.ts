import type { LocalCpiConfig } from './config.ts';
import { readJsonFile } from './state/json-file.ts';
import { StateLayout } from './state/layout.ts';
import { VmMetadata } from './state/records.ts';
import { findVm } from './state/stores.ts';

/** The VM's metadata as set_vm_metadata stored it; null for an unknown VM. */
export async function vmTags(config: LocalCpiConfig, vmCid: string): Promise<Record<string, unknown> | null> {
  const state = new StateLayout(config.stateDir);
  const vm = await findVm(state, vmCid);
  if (vm === null) return null;
  return (await readJsonFile(state.vm(vm.cid).metadataFile, VmMetadata)) ?? {};
}
