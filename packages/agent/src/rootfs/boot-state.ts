import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import {
  BOOT_NEXT_PATH,
  BOOT_STATE_PATH,
  RootfsBootState,
  STAGED_ROOTS_DIR,
  type BootRoot,
} from '@refit/protocol';
import { writeJsonDurable } from './durable-json.ts';

/** Where the reload files are under the agent's base dir (`/` in a VM). */
export interface RootfsPaths {
  readonly stateFile: string;
  readonly nextFile: string;
  readonly roots: string;
  readonly downloads: string;
  /** Per staged root, the rootfs.MF, install and rootfs.MF.sig bytes it was staged from. */
  readonly kept: string;
  /** Maps an in-VM path to where the agent sees it (the base dir prefixed). */
  readonly local: (inVm: string) => string;
}

export function rootfsPaths(base: string): RootfsPaths {
  const local = (inVm: string): string => join(base, inVm);
  return {
    stateFile: local(BOOT_STATE_PATH),
    nextFile: local(BOOT_NEXT_PATH),
    roots: local(STAGED_ROOTS_DIR),
    downloads: local('/var/vcap/data/rootfs/downloads'),
    kept: local('/var/vcap/data/rootfs/kept'),
    local,
  };
}

/** The boot state the boot step wrote, or null on a VM that never staged a root. */
export async function readBootState(paths: RootfsPaths): Promise<RootfsBootState | null> {
  let text: string;
  try {
    text = await readFile(paths.stateFile, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  return RootfsBootState.parse(JSON.parse(text));
}

/** The root that booted, as the boot step recorded it (null: no boot state). */
export async function bootedRoot(paths: RootfsPaths): Promise<RootfsBootState['booted']> {
  return (await readBootState(paths).catch(() => null))?.booted ?? null;
}

export type CommitOutcome = 'committed' | 'nothing_pending' | 'not_booted_from_pending';

/**
 * Commits the root that booted when it is the pending one: it becomes `current`, the old
 * current becomes `previous`. Then staged roots other than those two are removed.
 */
export async function commitBootedRoot(paths: RootfsPaths, now = new Date()): Promise<CommitOutcome> {
  const state = await readBootState(paths);
  if (state === null || state.pending === null) return 'nothing_pending';
  const booted = state.booted;
  if (booted === null || booted.kind !== 'pending' || booted.root !== state.pending.root) {
    return 'not_booted_from_pending';
  }
  const { attempts: _a, max_attempts: _m, ...root } = state.pending;
  const next: RootfsBootState = {
    ...state,
    previous: state.current,
    current: root,
    pending: null,
    booted: { ...booted, kind: 'current' },
    committed_at: now.toISOString(),
  };
  await writeJsonDurable(paths.stateFile, next);
  await collectRoots(paths, [next.current, next.previous]);
  return 'committed';
}

/** Removes staged roots (and leftovers) that none of `keep` (nor a pending root) names. */
export async function collectRoots(
  paths: RootfsPaths,
  keep: readonly (BootRoot | null)[],
): Promise<string[]> {
  const state = await readBootState(paths);
  const next = await readFile(paths.nextFile, 'utf8').then(
    (t) => ({ root: (JSON.parse(t) as { root?: unknown }).root }),
    () => null,
  );
  const kept = new Set(
    [...keep, state?.pending ?? null, state?.current ?? null, state?.previous ?? null, next]
      .map((r) => r?.root)
      .filter((r): r is string => typeof r === 'string')
      .map((r) => paths.local(r)),
  );
  const removed: string[] = [];
  const entries = await readdir(paths.roots).catch(() => [] as string[]);
  for (const name of entries) {
    const dir = join(paths.roots, name);
    if (kept.has(dir)) continue;
    await rm(dir, { recursive: true, force: true });
    removed.push(name);
  }
  // A root's kept files (rootfs.MF, install, rootfs.MF.sig) go with it.
  const remaining = new Set(entries.filter((name) => !removed.includes(name)));
  for (const name of await readdir(paths.kept).catch(() => [] as string[])) {
    if (!remaining.has(name)) await rm(join(paths.kept, name), { recursive: true, force: true });
  }
  return removed;
}
