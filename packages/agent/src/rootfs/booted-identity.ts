import type { BootedStemcell } from '@refit/protocol';
import type { AgentPaths } from '../paths.ts';
import { bootedStemcell } from '../vitals.ts';
import { bootedRoot, rootfsPaths } from './boot-state.ts';

/**
 * What booted: name, version and OS from the files inside the running root, and the root's
 * digest and boot id from the boot step's record of that boot (absent for a root the IaaS
 * booted without a boot step record).
 */
export async function bootedIdentity(paths: AgentPaths): Promise<BootedStemcell | undefined> {
  const stemcell = await bootedStemcell(paths);
  if (stemcell === undefined) return undefined;
  const booted = await bootedRoot(rootfsPaths(paths.base));
  const digest = booted?.version === stemcell.version ? booted.root_archive_sha256 : null;
  return {
    ...stemcell,
    ...(digest ? { root_digest: digest } : {}),
    // The boot step numbers every boot: the director tells a rebooted agent from the old one.
    ...(booted ? { boot_id: `${booted.boot}@${booted.at}` } : {}),
  };
}
