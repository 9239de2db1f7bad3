import { lstat, readFile, realpath, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { writeJsonDurable } from './durable-json.ts';
import type { VmLayout } from '../state/layout.ts';

/**
 * The boot step's OS-reload half (the "initramfs"): consumes the record the stemcell's
 * `install` script left on the VM's ephemeral disk (`sys/boot/next.json`, protocol
 * `RootfsBootRecord`), keeps the boot state (`sys/boot/state.json`, protocol `RootfsBootState`)
 * and picks the root to boot: a pending staged root while it has attempts left, else the
 * committed one, else the previous one, else the VM's stemcell root. Never throws for a bad
 * state: the VM always boots something. Hand-written checks (no zod: the supervisor stays small).
 */

const IN_VM_DATA = '/var/vcap/data/';
const ROOT_PATTERN = /^\/var\/vcap\/data\/[A-Za-z0-9._/+-]+$/;
const SHA256 = /^[0-9a-f]{64}$/;

interface Root {
  root: string | null;
  name: string;
  version: string;
  root_archive_sha256: string | null;
}
interface Pending extends Root {
  attempts: number;
  max_attempts: number;
}
interface BootState {
  format: 1;
  current: Root;
  previous: Root | null;
  pending: Pending | null;
  booted: (Root & { kind: 'current' | 'pending'; boot: number; at: string }) | null;
  abandoned: (Root & { reason: string; at: string })[];
  committed_at: string | null;
}

export interface StagedRootPolicy {
  readonly maxBootAttempts: number;
}

export interface RootChoice {
  /** Host path of the overlay's lower dir. */
  readonly lower: string;
  /** The root differs from the last one booted: boot with a clean upper dir. */
  readonly resetUpper: boolean;
  /** A staged root on probation: the supervisor watches for its commit. */
  readonly pending: Root | null;
  /** What happened, for the supervisor's log. */
  readonly notes: readonly string[];
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): v is string => typeof v === 'string';

function parseRoot(v: unknown): Root | null {
  if (!isObject(v)) return null;
  const { root, name, version, root_archive_sha256: sha } = v;
  if (root !== null && !(str(root) && ROOT_PATTERN.test(root) && !root.split('/').includes('..')))
    return null;
  if (!str(name) || !str(version)) return null;
  if (sha !== null && !(str(sha) && SHA256.test(sha))) return null;
  return { root, name, version, root_archive_sha256: sha };
}

const pick = (r: Root): Root => ({
  root: r.root,
  name: r.name,
  version: r.version,
  root_archive_sha256: r.root_archive_sha256,
});

/** Reads state.json; null when missing or unreadable (the caller starts afresh). */
export function parseBootState(text: string): BootState | null {
  let o: unknown;
  try {
    o = JSON.parse(text);
  } catch {
    return null;
  }
  if (!isObject(o) || o['format'] !== 1) return null;
  const current = parseRoot(o['current']);
  if (current === null) return null;
  const previous = o['previous'] === null ? null : parseRoot(o['previous']);
  let pending: Pending | null = null;
  const p = o['pending'];
  if (isObject(p)) {
    const r = parseRoot(p);
    const { attempts, max_attempts: max } = p;
    if (
      r &&
      Number.isInteger(attempts) &&
      Number.isInteger(max) &&
      (max as number) > 0 &&
      (attempts as number) >= 0
    ) {
      pending = { ...r, attempts: attempts as number, max_attempts: max as number };
    }
  }
  let booted: BootState['booted'] = null;
  const b = o['booted'];
  if (isObject(b)) {
    const r = parseRoot(b);
    if (
      r &&
      (b['kind'] === 'current' || b['kind'] === 'pending') &&
      Number.isInteger(b['boot']) &&
      str(b['at'])
    ) {
      booted = { ...r, kind: b['kind'], boot: b['boot'] as number, at: b['at'] };
    }
  }
  const abandoned = Array.isArray(o['abandoned'])
    ? o['abandoned'].flatMap((a) => {
        const r = parseRoot(a);
        return r && isObject(a) && str(a['reason']) && str(a['at'])
          ? [{ ...r, reason: a['reason'], at: a['at'] }]
          : [];
      })
    : [];
  const committed = str(o['committed_at']) ? o['committed_at'] : null;
  return { format: 1, current, previous, pending, booted, abandoned, committed_at: committed };
}

/** The `install` script's record: what matters to the boot step. */
function parseNext(
  text: string,
): { root: Root & { root: string }; attempts: number; fallback: { name: string; version: string } } | null {
  let o: unknown;
  try {
    o = JSON.parse(text);
  } catch {
    return null;
  }
  if (!isObject(o) || o['format'] !== 1) return null;
  const r = parseRoot(o);
  const attempts = o['boot_attempts_before_fallback'];
  const fb = o['fallback'];
  if (r === null || r.root === null || r.root_archive_sha256 === null) return null;
  if (!Number.isInteger(attempts) || (attempts as number) <= 0 || !isObject(fb)) return null;
  return {
    root: { ...r, root: r.root },
    attempts: attempts as number,
    fallback: {
      name: str(fb['name']) ? fb['name'] : 'unknown',
      version: str(fb['version']) ? fb['version'] : 'unknown',
    },
  };
}

/** Host path of an in-VM root on the ephemeral disk, or null when it is unusable. */
async function hostRoot(vm: VmLayout, root: string, initPath: string): Promise<string | null> {
  const host = join(vm.ephemeral, root.slice(IN_VM_DATA.length));
  try {
    const real = await realpath(host);
    const base = await realpath(vm.ephemeral);
    if (!real.startsWith(`${base}/`)) return null;
    // The root must hold its init (often an absolute symlink: resolved only inside the VM).
    if ((await lstat(join(real, initPath)).catch(() => null)) === null) return null;
    return real;
  } catch {
    return null;
  }
}

export function bootStateFile(vm: VmLayout): string {
  return join(vm.ephemeral, 'sys/boot/state.json');
}

export function bootNextFile(vm: VmLayout): string {
  return join(vm.ephemeral, 'sys/boot/next.json');
}

export async function readBootState(vm: VmLayout): Promise<BootState | null> {
  const text = await readFile(bootStateFile(vm), 'utf8').catch(() => null);
  return text === null ? null : parseBootState(text);
}

/**
 * Runs before every boot. `stemcellLower` is what boot.json says (the VM's stemcell root);
 * `bootNumber` the number this boot will have. Writes the state (atomically) before answering,
 * so an attempt is counted even if the boot is then killed.
 */
export async function chooseRoot(
  vm: VmLayout,
  stemcellLower: string,
  initPath: string,
  policy: StagedRootPolicy,
  bootNumber: number,
  now = new Date(),
): Promise<RootChoice> {
  const notes: string[] = [];
  const at = now.toISOString();
  const stateText = await readFile(bootStateFile(vm), 'utf8').catch(() => null);
  let state = stateText === null ? null : parseBootState(stateText);
  if (stateText !== null && state === null) notes.push('boot state unreadable: starting afresh');
  const nextText = await readFile(bootNextFile(vm), 'utf8').catch(() => null);
  if (nextText !== null) {
    const next = parseNext(nextText);
    if (next === null) {
      notes.push('next.json is not a valid boot record: ignored');
      await rename(bootNextFile(vm), `${bootNextFile(vm)}.invalid`).catch(() => undefined);
    } else {
      state ??= {
        format: 1,
        current: {
          root: null,
          name: next.fallback.name,
          version: next.fallback.version,
          root_archive_sha256: null,
        },
        previous: null,
        pending: null,
        booted: null,
        abandoned: [],
        committed_at: null,
      };
      const same = (r: Root | null) =>
        r?.root === next.root.root && r.root_archive_sha256 === next.root.root_archive_sha256;
      if (!same(state.pending) && !same(state.current)) {
        if (state.pending !== null) {
          state.abandoned = [
            ...state.abandoned,
            { ...pick(state.pending), reason: 'superseded by a newer staged root', at },
          ].slice(-10);
        }
        state.pending = {
          ...pick(next.root),
          attempts: 0,
          max_attempts: Math.min(next.attempts, policy.maxBootAttempts),
        };
        notes.push(`staged root ${next.root.version} (${next.root.root_archive_sha256}) is pending`);
      }
      await writeJsonDurable(bootStateFile(vm), state);
      await rm(bootNextFile(vm), { force: true });
    }
  }
  if (state === null) return { lower: stemcellLower, resetUpper: false, pending: null, notes };

  const lastLower =
    state.booted === null ? stemcellLower : await rootHost(vm, state.booted, stemcellLower, initPath);
  let chosen: { root: Root; kind: 'current' | 'pending'; lower: string } | null = null;
  if (state.pending !== null) {
    const p = state.pending;
    const host = p.root === null ? null : await hostRoot(vm, p.root, initPath);
    const why =
      host === null
        ? 'the staged root is missing or unusable'
        : p.attempts >= p.max_attempts
          ? `not committed after ${p.attempts} boot(s)`
          : null;
    if (why !== null || host === null) {
      notes.push(`abandoned staged root ${p.version}: ${why ?? 'unusable'}`);
      state.abandoned = [...state.abandoned, { ...pick(p), reason: why ?? 'unusable', at }].slice(-10);
      state.pending = null;
    } else {
      state.pending = { ...p, attempts: p.attempts + 1 };
      chosen = { root: pick(p), kind: 'pending', lower: host };
      notes.push(`booting staged root ${p.version}, attempt ${p.attempts + 1} of ${p.max_attempts}`);
    }
  }
  if (chosen === null) {
    for (const candidate of [state.current, state.previous]) {
      if (candidate === null) continue;
      const host = candidate.root === null ? stemcellLower : await hostRoot(vm, candidate.root, initPath);
      if (host !== null) {
        chosen = { root: pick(candidate), kind: 'current', lower: host };
        break;
      }
      notes.push(`root ${candidate.version} at ${candidate.root} is missing`);
    }
    chosen ??= {
      root: {
        root: null,
        name: state.current.name,
        version: state.current.version,
        root_archive_sha256: null,
      },
      kind: 'current',
      lower: stemcellLower,
    };
  }
  state.booted = { ...chosen.root, kind: chosen.kind, boot: bootNumber, at };
  await writeJsonDurable(bootStateFile(vm), state);
  return {
    lower: chosen.lower,
    resetUpper: chosen.lower !== lastLower,
    pending: chosen.kind === 'pending' ? chosen.root : null,
    notes,
  };
}

async function rootHost(vm: VmLayout, root: Root, stemcellLower: string, initPath: string): Promise<string> {
  if (root.root === null) return stemcellLower;
  return (await hostRoot(vm, root.root, initPath)) ?? `missing:${root.root}`;
}

/** Whether `root` is still pending and booted (not committed): the commit deadline's check. */
export async function stillUncommitted(vm: VmLayout, root: Root): Promise<boolean> {
  const state = await readBootState(vm);
  return (
    state?.pending?.root === root.root &&
    state.pending.root_archive_sha256 === root.root_archive_sha256 &&
    state.booted?.kind === 'pending'
  );
}
