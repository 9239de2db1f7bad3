import { readFile } from 'node:fs/promises';
import type { LocalVmBoot } from '@refit/protocol';

/**
 * The supervisor lives as long as its VM, so it stays small: it reads its files with these
 * hand-written checks instead of loading zod (about 30 MB less per VM). They accept exactly
 * what the CPI writes with the zod schemas (`LocalVmBoot`, `VmRecord`); a test keeps them equal.
 */
export class SupervisorFileError extends Error {
  override name = 'SupervisorFileError';
}

const object = (value: unknown, what: string): Record<string, unknown> => {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new SupervisorFileError(`${what}: not a JSON object`);
  }
  return value as Record<string, unknown>;
};

const string = (o: Record<string, unknown>, key: string, what: string): string => {
  const v = o[key];
  if (typeof v !== 'string' || v === '')
    throw new SupervisorFileError(`${what}: ${key} must be a non-empty string`);
  return v;
};

/** What the supervisor needs from vm.json. */
export interface SupervisedVm {
  readonly cid: string;
  readonly initPath: string;
  readonly hostBusybox: string;
  readonly bootTimeoutMs: number;
  /** Staged-root policy (OS reload). */
  readonly maxBootAttempts: number;
  readonly commitDeadlineMs: number;
}

const optionalPositive = (
  o: Record<string, unknown>,
  key: string,
  fallback: number,
  what: string,
): number => {
  const v = o[key];
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) {
    throw new SupervisorFileError(`${what}: ${key} must be a positive integer`);
  }
  return v;
};

export function parseSupervisedVm(text: string, what = 'vm.json'): SupervisedVm {
  const o = object(JSON.parse(text), what);
  const timeout = o['boot_timeout_ms'];
  if (typeof timeout !== 'number' || !Number.isInteger(timeout) || timeout <= 0) {
    throw new SupervisorFileError(`${what}: boot_timeout_ms must be a positive integer`);
  }
  return {
    cid: string(o, 'cid', what),
    initPath: string(o, 'init_path', what),
    hostBusybox: string(o, 'host_busybox', what),
    bootTimeoutMs: timeout,
    maxBootAttempts: optionalPositive(o, 'max_boot_attempts', 2, what),
    commitDeadlineMs: optionalPositive(o, 'commit_deadline_ms', 300_000, what),
  };
}

export function parseBoot(text: string, what = 'boot.json'): LocalVmBoot {
  const o = object(JSON.parse(text), what);
  const fallback = o['fallback'] ?? null;
  if (fallback !== null && (typeof fallback !== 'string' || fallback === '')) {
    throw new SupervisorFileError(`${what}: fallback must be null or a non-empty string`);
  }
  const reset = o['reset_upper'] ?? false;
  if (typeof reset !== 'boolean') throw new SupervisorFileError(`${what}: reset_upper must be a boolean`);
  return { lower: string(o, 'lower', what), fallback, reset_upper: reset };
}

/** The counters a restarted supervisor carries on from its predecessor's status.json. */
export function parsePreviousStatus(text: string): { boots: number; lastExit: string | null } {
  const o = object(JSON.parse(text), 'status.json');
  const boots = typeof o['boots'] === 'number' && Number.isInteger(o['boots']) ? o['boots'] : 0;
  return { boots, lastExit: typeof o['last_exit'] === 'string' ? o['last_exit'] : null };
}

export async function readOptional(path: string): Promise<string | null> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}
