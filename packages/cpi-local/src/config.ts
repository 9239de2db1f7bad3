import { readFile } from 'node:fs/promises';
import { isAbsolute } from 'node:path';
import { z } from 'zod';
import { BlobstoreSettings } from '@refit/protocol';
import { isLoopbackHost } from './networks.ts';

const Delays = z.record(z.string(), z.number().int().nonnegative()).default({});

const MbusUrl = z
  .string()
  .url()
  .refine((url) => isLoopbackHost(new URL(url).hostname), {
    message: 'agent.mbus must point at a loopback address (127.0.0.0/8 or localhost)',
  });

/** The CPI's configuration file (JSON or YAML), `--config FILE`. */
export const LocalCpiConfigFile = z.object({
  /** Holds stemcells, VMs and disks. Absolute. */
  state_dir: z
    .string()
    .refine(isAbsolute, { message: 'state_dir must be an absolute path' })
    // The paths go into overlayfs mount options, where commas and colons are separators.
    .refine((p) => !/[,:\s]/.test(p), { message: 'state_dir must not contain commas, colons or spaces' }),
  agent: z.object({
    /** NATS URL with the agents' credentials, e.g. nats://agent:secret@127.0.0.1:4222 */
    mbus: MbusUrl,
    blobstore: BlobstoreSettings.optional(),
    ntp: z.array(z.string()).default([]),
    /** Extra `env` merged under the director's env (e.g. `bosh.blobstores`). */
    env: z.record(z.string(), z.unknown()).default({}),
  }),
  /** Latency model for benchmarks: milliseconds to wait before each method runs. */
  delays: Delays,
  /** The VM's init, started with PATH only in its environment. */
  init_path: z.string().default('/sbin/refit-init'),
  /** A statically linked busybox on the host, used once per boot to drop the host's root. */
  host_busybox: z.string().optional(),
  boot_timeout_ms: z.number().int().positive().default(30_000),
  /** OS reload: the boot step's policy for staged roots (README "Boot step"). */
  reload: z
    .object({
      /** Boots of a staged root without a commit before the boot step falls back. */
      max_boot_attempts: z.number().int().positive().default(2),
      /** After booting a staged root, reboot the VM if the agent has not committed it by then. */
      commit_deadline_ms: z.number().int().positive().default(300_000),
    })
    .default({ max_boot_attempts: 2, commit_deadline_ms: 300_000 }),
});

export interface LocalCpiConfig {
  readonly stateDir: string;
  readonly agent: {
    readonly mbus: string;
    readonly blobstore: BlobstoreSettings | undefined;
    readonly ntp: readonly string[];
    readonly env: Readonly<Record<string, unknown>>;
  };
  readonly delays: Readonly<Record<string, number>>;
  readonly initPath: string;
  readonly hostBusybox: string | undefined;
  readonly bootTimeoutMs: number;
  readonly maxBootAttempts: number;
  readonly commitDeadlineMs: number;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export async function parseConfig(text: string, source: string): Promise<LocalCpiConfig> {
  let raw: unknown;
  try {
    // JSON first: YAML is a superset, but loading the YAML parser costs every call start-up time.
    raw = await parseJsonOrYaml(text);
  } catch (error) {
    throw new ConfigError(`${source}: not JSON or YAML`, { cause: error });
  }
  const parsed = LocalCpiConfigFile.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new ConfigError(`${source}: ${issues.join('; ')}`);
  }
  const c = parsed.data;
  return Object.freeze({
    stateDir: c.state_dir,
    agent: Object.freeze({
      mbus: c.agent.mbus,
      blobstore: c.agent.blobstore,
      ntp: c.agent.ntp,
      env: c.agent.env,
    }),
    delays: Object.freeze(c.delays),
    initPath: c.init_path,
    hostBusybox: c.host_busybox,
    bootTimeoutMs: c.boot_timeout_ms,
    maxBootAttempts: c.reload.max_boot_attempts,
    commitDeadlineMs: c.reload.commit_deadline_ms,
  });
}

async function parseJsonOrYaml(text: string): Promise<unknown> {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    const { parse } = await import('yaml');
    return parse(text) as unknown;
  }
}

export async function loadConfig(path: string): Promise<LocalCpiConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read config ${path}`, { cause: error });
  }
  return parseConfig(text, path);
}
