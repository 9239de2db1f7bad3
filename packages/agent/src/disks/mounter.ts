import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { AgentError, AgentErrorCode } from '../errors.ts';

const run = promisify(execFile);

/** Mounts, as the disk actions need them: bind mounts of directories the CPI made visible. */
export interface Mounter {
  bind(source: string, target: string): Promise<void>;
  unmount(target: string): Promise<void>;
  /**
   * Flips the read-only flag of the mount on `target` (the mount point only: the same directory
   * stays writable through any other path), as BOSH's agent remounts the old store read-only
   * before `migrate_disk` copies it.
   */
  remount(target: string, options: { readonly readOnly: boolean }): Promise<void>;
  isMountPoint(target: string): Promise<boolean>;
}

/** Undoes mountinfo's octal escapes (`\040` for a space). */
function unescapeMountPath(text: string): string {
  return text.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(Number.parseInt(octal, 8)));
}

export async function mountPoints(): Promise<Set<string>> {
  const text = await readFile('/proc/self/mountinfo', 'utf8');
  const points = new Set<string>();
  for (const line of text.split('\n')) {
    const field = line.split(' ')[4];
    if (field !== undefined) points.add(unescapeMountPath(field));
  }
  return points;
}

/** The real one: mount(8) and umount(8) in the agent's mount namespace. */
export const systemMounter: Mounter = {
  async bind(source, target) {
    try {
      await run('mount', ['--bind', source, target]);
    } catch (cause) {
      throw new AgentError(AgentErrorCode.Disk, `bind-mounting ${source} on ${target} failed`, { cause });
    }
  },
  async unmount(target) {
    try {
      await run('umount', [target]);
    } catch (cause) {
      throw new AgentError(AgentErrorCode.Disk, `unmounting ${target} failed`, { cause });
    }
  },
  async remount(target, { readOnly }) {
    // A bind mount takes a per-mount-point `ro` (Linux 2.6.26+) through `remount,bind`.
    try {
      await run('mount', ['-o', `remount,bind,${readOnly ? 'ro' : 'rw'}`, target]);
    } catch (cause) {
      const mode = readOnly ? 'read-only' : 'read-write';
      throw new AgentError(AgentErrorCode.Disk, `remounting ${target} ${mode} failed`, { cause });
    }
  },
  async isMountPoint(target) {
    return (await mountPoints()).has(target);
  },
};
