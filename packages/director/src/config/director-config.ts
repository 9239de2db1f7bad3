import { createPublicKey } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { parse } from 'yaml';
import { z } from 'zod';
import { LogLevel } from './director-log.ts';

/** The optional YAML config file: every key optional, unknown keys refused. */
const ConfigFile = z.strictObject({
  name: z.string().min(1).optional(),
  port: z.number().int().min(1).max(65535).optional(),
  workers: z.number().int().min(1).max(64).optional(),
  log_level: z.enum(Object.values(LogLevel)).optional(),
  db: z.strictObject({ url: z.string().min(1) }).optional(),
  cpi: z
    .strictObject({
      name: z.string().optional(),
      executable: z.string().min(1),
      args: z.array(z.string()).optional(),
      timeout_seconds: z.number().positive().optional(),
    })
    .optional(),
  blobstore: z.strictObject({ dir: z.string().min(1) }).optional(),
  nats: z
    .strictObject({
      // An existing NATS (no nats-server is started): its URL and users.
      url: z.string().url().optional(),
      director: z.strictObject({ user: z.string().min(1), password: z.string().min(1) }).optional(),
      agents: z.strictObject({ user: z.string().min(1), password: z.string().min(1) }).optional(),
      hm: z.strictObject({ user: z.string().min(1), password: z.string().min(1) }).optional(),
      // The embedded nats-server (when there is no url).
      port: z.number().int().min(1).max(65535).optional(),
      executable: z.string().min(1).optional(),
    })
    .optional(),
  // How the director talks to agents (BOSH's defaults).
  agent: z
    .strictObject({
      reply_timeout_seconds: z.number().positive().optional(),
      task_poll_interval_seconds: z.number().positive().optional(),
      wait_timeout_seconds: z.number().positive().optional(),
    })
    .optional(),
  // BOSH's `scan_and_fix.auto_fix_stateful_nodes` (default false): whether the health monitor's
  // scan_and_fix also recreates instances that have a persistent disk.
  scan_and_fix: z.strictObject({ auto_fix_stateful_nodes: z.boolean().optional() }).optional(),
  // BOSH's `director.disks.max_orphaned_age_in_days` (default 5): orphaned disks older than that
  // are deleted by a timer every `cleanup_interval_seconds` (default 1800, BOSH's half-hourly
  // `cleanup_schedule`; 0: never).
  disks: z
    .strictObject({
      max_orphaned_age_in_days: z.number().nonnegative().optional(),
      cleanup_interval_seconds: z.number().nonnegative().optional(),
    })
    .optional(),
  // BOSH's `director.vms.cleanup_schedule` (every 5 minutes): the old VMs a create-swap-delete
  // orphaned are deleted by a timer every `cleanup_interval_seconds` (default 300; 0: never,
  // then only `clean-up` deletes them).
  vms: z.strictObject({ cleanup_interval_seconds: z.number().nonnegative().optional() }).optional(),
  // Refit's addition, signed generic stemcells: the Ed25519 public keys (PEM text, or a PEM file
  // path relative to this file) whose rootfs.MF.sig uploads accept; `require_signature` (default:
  // true when there are keys) refuses unsigned uploads.
  rootfs: z
    .strictObject({
      trusted_keys: z.array(z.string().min(1)).optional(),
      require_signature: z.boolean().optional(),
    })
    .optional(),
});

/** A NATS user and password. */
export interface NatsUserConfig {
  readonly user: string;
  readonly password: string;
}

/** Which NATS the director uses: the nats-server it starts, or an existing one. */
export type NatsConfig =
  | { readonly kind: 'embedded'; readonly port: number | null; readonly executable: string | null }
  | {
      readonly kind: 'external';
      readonly url: string;
      readonly director: NatsUserConfig;
      readonly agents: NatsUserConfig;
      readonly hm: NatsUserConfig | null;
    };

/** The director's configuration, validated once, defaults applied, frozen. */
export interface DirectorConfig {
  readonly stateDir: string;
  readonly port: number;
  readonly name: string;
  readonly workers: number;
  readonly logLevel: LogLevel;
  /** PostgreSQL URL, or null for the embedded SQLite database under the state dir. */
  readonly dbUrl: string | null;
  readonly cpi: {
    readonly name: string;
    readonly executable: string;
    readonly args: readonly string[];
    readonly timeoutMs: number;
    /** A config file the director writes (if missing) before the first call: the default CPI's. */
    readonly generatedConfig: { readonly path: string; readonly text: string } | null;
  };
  readonly blobstoreDir: string;
  /** Absent when the file has no `nats` key: the embedded nats-server with its defaults. */
  readonly nats?: NatsConfig;
  /** `scan_and_fix` (the health monitor's resurrection) also fixes instances with persistent disks. */
  readonly scanAndFix: { readonly autoFixStatefulNodes: boolean };
  /** Orphaned disks older than `maxOrphanedAgeDays` are deleted every `intervalMs` (0: never). */
  readonly orphanedDiskCleanup: { readonly maxOrphanedAgeDays: number; readonly intervalMs: number };
  /** Orphaned VMs (old VMs of create-swap-delete) are deleted every `intervalMs` (0: never). */
  readonly orphanedVmCleanup: { readonly intervalMs: number };
  /**
   * Absent when the file has no `rootfs` key: uploads are checked by digest only. Keys are SPKI
   * PEM texts of Ed25519 public keys.
   */
  readonly rootfs?: { readonly trustedKeys: readonly string[]; readonly requireSignature: boolean };
  /** Absent when the file has no `agent` key: 45 s per reply, get_task every 1 s, 600 s wait. */
  readonly agent?: {
    readonly replyTimeoutMs: number;
    readonly pollIntervalMs: number;
    readonly waitTimeoutMs: number;
  };
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export interface CommandLine {
  readonly stateDir: string;
  readonly port?: number;
  readonly configFile?: string;
}

export const USAGE = 'usage: refit-director --state-dir DIR [--port PORT] [--config FILE]';

export function parseCommandLine(argv: readonly string[]): CommandLine {
  let values: { 'state-dir'?: string | undefined; port?: string | undefined; config?: string | undefined };
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: { 'state-dir': { type: 'string' }, port: { type: 'string' }, config: { type: 'string' } },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw new ConfigError(`${(error as Error).message}\n${USAGE}`);
  }
  const stateDir = values['state-dir'];
  if (stateDir === undefined || stateDir === '') throw new ConfigError(`--state-dir is required\n${USAGE}`);
  let port: number | undefined;
  if (values.port !== undefined) {
    port = Number(values.port);
    if (!/^\d+$/.test(values.port) || port < 1 || port > 65535) {
      throw new ConfigError(`--port: expected a port number (1-65535), got '${values.port}'`);
    }
  }
  return {
    stateDir,
    ...(port === undefined ? {} : { port }),
    ...(values.config === undefined ? {} : { configFile: values.config }),
  };
}

/** `config.yml: db.url: expected string, received number` */
function describeIssues(file: string, error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      if (issue.code === 'unrecognized_keys') {
        return issue.keys.map((key) => `${file}: ${[...issue.path, key].join('.')}: unknown key`).join('\n');
      }
      const where = issue.path.length === 0 ? '(top level)' : issue.path.join('.');
      return `${file}: ${where}: ${issue.message.replace(/^Invalid input: /, '')}`;
    })
    .join('\n');
}

/**
 * The default CPI: the local CPI when it is built, else the test CPI kept in testkit. Both live
 * in this repository; `repoRoot` is where main.ts found it. The local CPI needs a config file:
 * it gets one under the state dir. `text` is its base (state dir, a placeholder mbus): at every
 * start main.ts rewrites the file with the real agent access (NATS URL with the agents' user,
 * blobstore settings for agents), see agent-client/cpi-local-agent-config.ts.
 */
export function defaultCpi(
  repoRoot: string,
  stateDir = '',
): {
  name: string;
  executable: string;
  args: string[];
  generatedConfig: { path: string; text: string } | null;
} {
  const local = join(repoRoot, 'packages/cpi-local/bin/refit-cpi-local');
  if (existsSync(local)) {
    const path = join(stateDir, 'cpi-local', 'cpi.yml');
    const text = `state_dir: ${JSON.stringify(join(stateDir, 'cpi-local', 'state'))}\nagent:\n  mbus: nats://127.0.0.1:4222\n`;
    return {
      name: 'refit-cpi-local',
      executable: local,
      args: ['--config', path],
      generatedConfig: { path, text },
    };
  }
  return {
    name: 'test-cpi',
    executable: join(repoRoot, 'packages/testkit/bin/test-cpi'),
    args: [],
    generatedConfig: null,
  };
}

/** Command line + optional YAML file → the immutable config. Errors name the file and the key. */
export async function loadDirectorConfig(
  commandLine: CommandLine,
  repoRoot: string,
): Promise<DirectorConfig> {
  let file: z.infer<typeof ConfigFile> = {};
  let baseDir = process.cwd();
  if (commandLine.configFile !== undefined) {
    const path = resolve(commandLine.configFile);
    const label = basename(path);
    baseDir = dirname(path);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      throw new ConfigError(`${commandLine.configFile}: cannot read: ${(error as Error).message}`);
    }
    let raw: unknown;
    try {
      raw = parse(text) ?? {};
    } catch (error) {
      throw new ConfigError(`${label}: not valid YAML: ${(error as Error).message}`);
    }
    const parsed = ConfigFile.safeParse(raw);
    if (!parsed.success) throw new ConfigError(describeIssues(label, parsed.error));
    file = parsed.data;
  }
  const stateDir = resolve(commandLine.stateDir);
  const fallbackCpi = defaultCpi(repoRoot, stateDir);
  const config: DirectorConfig = {
    stateDir,
    port: commandLine.port ?? file.port ?? 25555,
    name: file.name ?? 'refit',
    workers: file.workers ?? 3,
    logLevel: file.log_level ?? 'info',
    dbUrl: file.db?.url ?? null,
    cpi: {
      name: file.cpi?.name ?? (file.cpi === undefined ? fallbackCpi.name : basename(file.cpi.executable)),
      executable: file.cpi === undefined ? fallbackCpi.executable : resolve(baseDir, file.cpi.executable),
      args: file.cpi === undefined ? fallbackCpi.args : (file.cpi.args ?? []),
      timeoutMs: Math.round((file.cpi?.timeout_seconds ?? 600) * 1000),
      generatedConfig: file.cpi === undefined ? fallbackCpi.generatedConfig : null,
    },
    blobstoreDir:
      file.blobstore === undefined ? join(stateDir, 'blobstore') : resolve(baseDir, file.blobstore.dir),
    scanAndFix: Object.freeze({ autoFixStatefulNodes: file.scan_and_fix?.auto_fix_stateful_nodes ?? false }),
    orphanedDiskCleanup: Object.freeze({
      maxOrphanedAgeDays: file.disks?.max_orphaned_age_in_days ?? 5,
      intervalMs: Math.round((file.disks?.cleanup_interval_seconds ?? 1800) * 1000),
    }),
    orphanedVmCleanup: Object.freeze({
      intervalMs: Math.round((file.vms?.cleanup_interval_seconds ?? 300) * 1000),
    }),
  };
  const nats = natsConfig(fileLabel(commandLine), file.nats, baseDir);
  const rootfs = await rootfsConfig(fileLabel(commandLine), file.rootfs, baseDir);
  return Object.freeze({
    ...config,
    ...(nats === undefined ? {} : { nats: Object.freeze(nats) }),
    ...(rootfs === undefined ? {} : { rootfs }),
    ...(file.agent === undefined
      ? {}
      : {
          agent: Object.freeze({
            replyTimeoutMs: Math.round((file.agent.reply_timeout_seconds ?? 45) * 1000),
            pollIntervalMs: Math.round((file.agent.task_poll_interval_seconds ?? 1) * 1000),
            waitTimeoutMs: Math.round((file.agent.wait_timeout_seconds ?? 600) * 1000),
          }),
        }),
    cpi: Object.freeze({ ...config.cpi, args: Object.freeze([...config.cpi.args]) }),
  });
}

const fileLabel = (commandLine: CommandLine) =>
  commandLine.configFile === undefined ? '' : basename(commandLine.configFile);

function natsConfig(
  file: string,
  nats: z.infer<typeof ConfigFile>['nats'],
  baseDir: string,
): NatsConfig | undefined {
  if (nats === undefined) return undefined;
  if (nats.url === undefined) {
    for (const key of ['director', 'agents', 'hm'] as const) {
      if (nats[key] !== undefined) throw new ConfigError(`${file}: nats.${key}: only with nats.url`);
    }
    return {
      kind: 'embedded',
      port: nats.port ?? null,
      executable: nats.executable === undefined ? null : resolve(baseDir, nats.executable),
    };
  }
  for (const key of ['port', 'executable'] as const) {
    if (nats[key] !== undefined)
      throw new ConfigError(`${file}: nats.${key}: not with nats.url (an existing NATS)`);
  }
  if (nats.director === undefined || nats.agents === undefined) {
    throw new ConfigError(`${file}: nats: with url, director and agents (user, password) are required`);
  }
  return {
    kind: 'external',
    url: nats.url,
    director: nats.director,
    agents: nats.agents,
    hm: nats.hm ?? null,
  };
}

/** `rootfs.trusted_keys`: each a PEM text or a PEM file, checked to be an Ed25519 public key. */
async function rootfsConfig(
  file: string,
  rootfs: z.infer<typeof ConfigFile>['rootfs'],
  baseDir: string,
): Promise<DirectorConfig['rootfs']> {
  if (rootfs === undefined) return undefined;
  const trustedKeys: string[] = [];
  for (const [index, entry] of (rootfs.trusted_keys ?? []).entries()) {
    const where = `${file}: rootfs.trusted_keys.${index}`;
    let text = entry;
    if (!entry.includes('-----BEGIN')) {
      try {
        text = await readFile(resolve(baseDir, entry), 'utf8');
      } catch (error) {
        throw new ConfigError(`${where}: cannot read '${entry}': ${(error as Error).message}`);
      }
    }
    if (text.includes('PRIVATE KEY')) {
      throw new ConfigError(`${where}: is a private key; the director needs only the public key`);
    }
    let key;
    try {
      key = createPublicKey(text);
    } catch (error) {
      throw new ConfigError(`${where}: not a PEM public key: ${(error as Error).message}`);
    }
    if (key.asymmetricKeyType !== 'ed25519') {
      throw new ConfigError(`${where}: an Ed25519 public key is required`);
    }
    trustedKeys.push(String(key.export({ type: 'spki', format: 'pem' })));
  }
  const requireSignature = rootfs.require_signature ?? trustedKeys.length > 0;
  if (requireSignature && trustedKeys.length === 0) {
    throw new ConfigError(`${file}: rootfs.require_signature: needs rootfs.trusted_keys`);
  }
  return Object.freeze({ trustedKeys: Object.freeze(trustedKeys), requireSignature });
}
