import { copyFile, mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { AgentPaths } from '../paths.ts';

/** The files that moved from /var/vcap/bosh to /var/vcap/data/bosh (they must survive a root swap). */
const MOVED = ['spec.json', 'update_settings.json', 'persistent_disks.json', 'mounted_disk.json'];

/**
 * Moves the agent's state from the root (/var/vcap/bosh) to the ephemeral disk, once: a file
 * already in the new place wins; the old copy is removed after the new one is written.
 */
export async function migrateAgentState(paths: AgentPaths): Promise<string[]> {
  await mkdir(paths.stateDir, { recursive: true });
  const moved: string[] = [];
  for (const name of MOVED) {
    const from = join(paths.boshDir, name);
    const to = join(paths.stateDir, name);
    try {
      await copyFile(from, `${to}.migrating`);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw error;
    }
    try {
      await copyFile(`${to}.migrating`, to, 1 /* COPYFILE_EXCL: the new place wins */);
      moved.push(name);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    await rm(`${to}.migrating`, { force: true });
    await rm(from, { force: true });
  }
  return moved;
}
