import { mkdir } from 'node:fs/promises';
import type { AgentSettings } from '@refit/protocol';
import type { LocalCpiConfig } from './config.ts';
import { writeJsonFile } from './state/json-file.ts';
import { InVm, type VmLayout } from './state/layout.ts';
import type { VmRecord } from './state/records.ts';

export function diskHint(diskCid: string): { path: string } {
  return { path: InVm.diskPath(diskCid) };
}

const asRecord = (v: unknown): Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};

/** The settings document (reference §2.3) the VM's agent reads from its config drive. */
export function buildSettings(
  config: LocalCpiConfig,
  vm: VmRecord,
  attachedDisks: readonly string[],
): AgentSettings {
  const networks: AgentSettings['networks'] = {};
  for (const [name, n] of Object.entries(vm.networks)) {
    networks[name] = { ...n, mac: '', preconfigured: true };
  }
  const base = config.agent.env;
  const env = { ...base, ...vm.env, bosh: { ...asRecord(base['bosh']), ...asRecord(vm.env['bosh']) } };
  return {
    agent_id: vm.agent_id,
    vm: { name: vm.cid, id: vm.cid },
    mbus: config.agent.mbus,
    ntp: [...config.agent.ntp],
    ...(config.agent.blobstore ? { blobstore: config.agent.blobstore } : {}),
    networks,
    disks: {
      system: '/',
      ephemeral: InVm.ephemeral,
      persistent: Object.fromEntries(attachedDisks.map((cid) => [cid, diskHint(cid)])),
    },
    env,
  };
}

export async function writeSettings(
  config: LocalCpiConfig,
  layout: VmLayout,
  vm: VmRecord,
  attachedDisks: readonly string[],
): Promise<void> {
  await mkdir(layout.configDrive, { recursive: true });
  await writeJsonFile(layout.settingsFile, buildSettings(config, vm, attachedDisks));
}
