import type { BootedStemcell } from '@refit/protocol';
import type { AgentPaths } from '../paths.ts';
import { bootedStemcell } from '../vitals.ts';
import { bootedRoot, rootfsPaths } from './boot-state.ts';

/**
 * What booted: name, version and OS from the files inside the running root, and the root's
 * digest from the boot step's record of that boot (absent for a root the IaaS booted).
 */
export async function bootedIdentity(paths: AgentPaths): Promise<BootedStemcell | undefined> {
  const stemcell = await bootedStemcell(paths);
  if (stemcell === undefined) return undefined;
  const booted = await bootedRoot(rootfsPaths(paths.base));
  const digest = booted?.version === stemcell.version ? booted.root_archive_sha256 : null;
  return digest ? { ...stemcell, root_digest: digest } : stemcell;
}
