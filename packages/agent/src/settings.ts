import { readFile, writeFile, rename, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { z } from 'zod';
import { AgentSettings, BlobstoreSettings, DiskHint, type UpdateSettings } from '@refit/protocol';
import { AgentError, AgentErrorCode } from './errors.ts';
import type { AgentPaths } from './paths.ts';

/** How to reach NATS: servers without credentials, and the credentials apart. */
export interface MbusTarget {
  readonly servers: string;
  readonly user: string;
  readonly pass: string;
  readonly ca?: string;
}

const EnvBosh = z
  .object({
    mbus: z
      .object({
        urls: z.array(z.string()).optional(),
        cert: z.object({ ca: z.string().optional() }).passthrough().optional(),
      })
      .passthrough()
      .optional(),
    blobstores: z.array(BlobstoreSettings).optional(),
  })
  .passthrough();

const Overrides = z
  .object({
    blobstores: z.array(BlobstoreSettings).optional(),
    trusted_certs: z.string().optional(),
    disk_associations: z.array(z.object({ name: z.string(), cid: z.string() })).optional(),
    mbus: z.record(z.string(), z.unknown()).optional(),
  })
  .passthrough();
type Overrides = z.infer<typeof Overrides>;

const RecordedDisks = z.record(z.string(), DiskHint);

export async function readSettingsFile(file: string): Promise<AgentSettings> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (cause) {
    throw new AgentError(AgentErrorCode.Settings, `cannot read settings file ${file}`, { cause });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new AgentError(AgentErrorCode.Settings, `settings file ${file} is not JSON`, { cause });
  }
  const parsed = AgentSettings.safeParse(json);
  if (!parsed.success) {
    throw new AgentError(
      AgentErrorCode.Settings,
      `settings file ${file} is invalid: ${z.prettifyError(parsed.error)}`,
    );
  }
  return parsed.data;
}

async function readJson<T>(file: string, schema: z.ZodType<T>, fallback: T): Promise<T> {
  try {
    return schema.parse(JSON.parse(await readFile(file, 'utf8')));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return fallback;
    throw new AgentError(AgentErrorCode.Settings, `cannot read ${file}`, { cause: error });
  }
}

export async function writeJsonAtomic(file: string, value: unknown): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(value, null, 2));
  await rename(tmp, file);
}

/** Parses an mbus URL (`nats://user:password@host:port`); refuses one without credentials. */
export function parseMbus(url: string, ca?: string): MbusTarget {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (cause) {
    throw new AgentError(AgentErrorCode.Settings, `mbus '${url}' is not a URL`, { cause });
  }
  if (!['nats:', 'tls:'].includes(parsed.protocol)) {
    throw new AgentError(
      AgentErrorCode.Settings,
      `mbus scheme '${parsed.protocol}' is not nats:// or tls://`,
    );
  }
  const user = decodeURIComponent(parsed.username);
  const pass = decodeURIComponent(parsed.password);
  if (user === '' || pass === '') {
    throw new AgentError(
      AgentErrorCode.Settings,
      'mbus URL carries no user:password; refit-agent never connects to an open server',
    );
  }
  const servers = `${parsed.protocol}//${parsed.host}`;
  return ca === undefined ? { servers, user, pass } : { servers, user, pass, ca };
}

/**
 * The settings the CPI wrote, plus what `update_settings` and `add_persistent_disk` recorded.
 * Precedence (reference §2.3): update_settings > env.bosh > top level.
 */
export class SettingsStore {
  readonly #paths: AgentPaths;
  readonly #base: AgentSettings;
  #overrides: Overrides;
  #disks: Record<string, DiskHint>;

  private constructor(
    paths: AgentPaths,
    base: AgentSettings,
    overrides: Overrides,
    disks: Record<string, DiskHint>,
  ) {
    this.#paths = paths;
    this.#base = base;
    this.#overrides = overrides;
    this.#disks = disks;
  }

  static async load(paths: AgentPaths, settings: AgentSettings): Promise<SettingsStore> {
    const overrides = await readJson(paths.settingsOverridesFile, Overrides, {});
    const disks = await readJson(paths.persistentDisksFile, RecordedDisks, {});
    return new SettingsStore(paths, settings, overrides, disks);
  }

  get settings(): AgentSettings {
    return this.#base;
  }

  get agentId(): string {
    return this.#base.agent_id;
  }

  #envBosh(): z.infer<typeof EnvBosh> {
    const parsed = EnvBosh.safeParse(this.#base.env['bosh'] ?? {});
    return parsed.success ? parsed.data : {};
  }

  mbus(): MbusTarget {
    const env = this.#envBosh();
    const url = env.mbus?.urls?.[0] ?? this.#base.mbus;
    return parseMbus(url, env.mbus?.cert?.ca);
  }

  blobstore(): BlobstoreSettings {
    const chosen = this.#overrides.blobstores?.[0] ?? this.#envBosh().blobstores?.[0] ?? this.#base.blobstore;
    if (chosen === undefined) throw new AgentError(AgentErrorCode.Settings, 'settings name no blobstore');
    return chosen;
  }

  /** Persistent disks by CID: the settings' own, then the ones add_persistent_disk recorded. */
  persistentDisks(): Record<string, DiskHint> {
    const fromSettings: Record<string, DiskHint> = {};
    for (const [cid, hint] of Object.entries(this.#base.disks.persistent)) {
      const parsed = DiskHint.safeParse(hint);
      if (parsed.success) fromSettings[cid] = parsed.data;
    }
    return { ...fromSettings, ...this.#disks };
  }

  async addPersistentDisk(cid: string, hint: DiskHint): Promise<void> {
    this.#disks = { ...this.#disks, [cid]: hint };
    await writeJsonAtomic(this.#paths.persistentDisksFile, this.#disks);
  }

  async removePersistentDisk(cid: string): Promise<void> {
    const { [cid]: _removed, ...rest } = this.#disks;
    this.#disks = rest;
    await writeJsonAtomic(this.#paths.persistentDisksFile, this.#disks);
  }

  /** Records an update; answers whether the bus or blobstore changed (BOSH restarts then). */
  async update(update: UpdateSettings): Promise<{ mbusChanged: boolean; blobstoresChanged: boolean }> {
    const blobstoresChanged =
      update.blobstores !== undefined &&
      JSON.stringify(update.blobstores) !== JSON.stringify(this.#overrides.blobstores);
    const mbusChanged =
      update.mbus !== undefined && JSON.stringify(update.mbus) !== JSON.stringify(this.#overrides.mbus);
    this.#overrides = { ...this.#overrides, ...update };
    await writeJsonAtomic(this.#paths.settingsOverridesFile, this.#overrides);
    return { mbusChanged, blobstoresChanged };
  }
}
