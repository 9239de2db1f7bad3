import { readFile, rm } from 'node:fs/promises';
import { runHost } from './run.ts';

export interface MountEntry {
  readonly id: number;
  readonly parent: number;
  readonly mountPoint: string;
  readonly optional: string;
  readonly fsType: string;
}

// mountinfo escapes space, tab, newline and backslash as octal.
const unescape = (s: string) =>
  s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));

export async function readMounts(file = '/proc/self/mountinfo'): Promise<MountEntry[]> {
  const text = await readFile(file, 'utf8');
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => {
      const [left = '', right = ''] = line.split(' - ');
      const f = left.split(' ');
      return {
        id: Number(f[0]),
        parent: Number(f[1]),
        mountPoint: unescape(f[4] ?? ''),
        optional: f.slice(6).join(' '),
        fsType: right.split(' ')[0] ?? '',
      };
    });
}

const within = (path: string, dir: string) => path === dir || path.startsWith(`${dir}/`);

/** Host mounts at or below `dir`, deepest first (the order to unmount them in). */
export async function mountsUnder(dir: string): Promise<MountEntry[]> {
  const mounts = (await readMounts()).filter((m) => within(m.mountPoint, dir));
  return mounts.sort((a, b) => b.mountPoint.length - a.mountPoint.length);
}

export async function isMountPoint(path: string): Promise<boolean> {
  return (await readMounts()).some((m) => m.mountPoint === path);
}

/** Unmounts everything at or below `dir` (stacked mounts included). */
export async function unmountAll(dir: string): Promise<void> {
  for (let round = 0; round < 1024; round++) {
    const mounts = await mountsUnder(dir);
    const first = mounts[0];
    if (first === undefined) return;
    await runHost('umount', [first.mountPoint]).catch(async () => {
      await runHost('umount', ['-l', first.mountPoint]);
    });
  }
  const left = await mountsUnder(dir);
  if (left.length > 0)
    throw new Error(`mounts left under ${dir}: ${left.map((m) => m.mountPoint).join(', ')}`);
}

/** Removes a tree only when nothing is mounted in it: rm -r through a bind mount would destroy a disk. */
export async function removeTree(dir: string): Promise<void> {
  const left = await mountsUnder(dir);
  if (left.length > 0) {
    throw new Error(`refusing to remove ${dir}: still mounted: ${left.map((m) => m.mountPoint).join(', ')}`);
  }
  await rm(dir, { recursive: true, force: true });
}
