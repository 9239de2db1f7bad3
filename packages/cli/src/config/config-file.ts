import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { CliConfigFile } from '@refit/protocol';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { ConfigFileError } from '../errors.ts';

/** One director the operator has aliased or logged in to. */
export interface EnvironmentEntry {
  readonly url: string;
  readonly caCert?: string;
  readonly alias?: string;
  readonly client?: string;
  readonly clientSecret?: string;
}

export interface CliConfig {
  readonly environments: readonly EnvironmentEntry[];
}

export const emptyConfig: CliConfig = { environments: [] };

/** `~/.refit/config`: the refit CLI's own file, never the stock CLI's `~/.bosh/config`. */
export function defaultConfigPath(home: string): string {
  return join(home, '.refit', 'config');
}

/** Reads and validates the config file (YAML, or JSON which is YAML too); missing means empty. */
export async function loadConfig(path: string): Promise<CliConfig> {
  let source: string;
  try {
    source = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return emptyConfig;
    throw new ConfigFileError(`Reading config file '${path}': ${(error as Error).message}`, { cause: error });
  }
  let document: unknown;
  try {
    document = source.trim() === '' ? {} : parseYaml(source);
  } catch (error) {
    throw new ConfigFileError(`Parsing config file '${path}': ${(error as Error).message}`, { cause: error });
  }
  const parsed = CliConfigFile.safeParse(document ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue === undefined || issue.path.length === 0 ? '(top level)' : issue.path.join('.');
    throw new ConfigFileError(`Invalid config file '${path}': ${where}: ${issue?.message ?? 'invalid'}`);
  }
  return {
    environments: parsed.data.environments.map((e) => ({
      url: e.url,
      ...(e.ca_cert === undefined ? {} : { caCert: e.ca_cert }),
      ...(e.alias === undefined ? {} : { alias: e.alias }),
      ...(e.client === undefined ? {} : { client: e.client }),
      ...(e.client_secret === undefined ? {} : { clientSecret: e.client_secret }),
    })),
  };
}

/** Writes the config atomically (temp file + rename), the file 0600 and its directory 0700. */
export async function saveConfig(path: string, config: CliConfig): Promise<void> {
  const document: CliConfigFile = {
    environments: config.environments.map((e) => ({
      url: e.url,
      ...(e.alias === undefined ? {} : { alias: e.alias }),
      ...(e.caCert === undefined ? {} : { ca_cert: e.caCert }),
      ...(e.client === undefined ? {} : { client: e.client }),
      ...(e.clientSecret === undefined ? {} : { client_secret: e.clientSecret }),
    })),
  };
  const temp = `${path}.${process.pid}.tmp`;
  try {
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    await writeFile(temp, stringifyYaml(document), { mode: 0o600 });
    await chmod(temp, 0o600);
    await rename(temp, path);
  } catch (error) {
    throw new ConfigFileError(`Writing config file '${path}': ${(error as Error).message}`, { cause: error });
  }
}

/** The entry whose alias or URL is `nameOrUrl` (an alias wins). */
export function findEnvironment(config: CliConfig, nameOrUrl: string): EnvironmentEntry | undefined {
  return (
    config.environments.find((e) => e.alias === nameOrUrl) ??
    config.environments.find((e) => sameUrl(e.url, nameOrUrl))
  );
}

/** Records `alias` → `url` (+ CA). Re-aliasing to another URL forgets that alias' credentials. */
export function aliasEnvironment(
  config: CliConfig,
  entry: { readonly alias: string; readonly url: string; readonly caCert?: string },
): CliConfig {
  const byAlias = config.environments.find((e) => e.alias === entry.alias);
  const byUrl = config.environments.find((e) => e.alias === undefined && sameUrl(e.url, entry.url));
  const previous = byAlias ?? byUrl;
  const keepCreds = previous !== undefined && sameUrl(previous.url, entry.url);
  const updated: EnvironmentEntry = {
    url: entry.url,
    alias: entry.alias,
    ...(entry.caCert === undefined ? {} : { caCert: entry.caCert }),
    ...(keepCreds && previous.client !== undefined ? { client: previous.client } : {}),
    ...(keepCreds && previous.clientSecret !== undefined ? { clientSecret: previous.clientSecret } : {}),
  };
  return replaceEntry(config, previous, updated);
}

/** Stores credentials for the environment at `url` (adding an entry when there is none). */
export function setCredentials(
  config: CliConfig,
  url: string,
  creds: { readonly client: string; readonly clientSecret: string },
): CliConfig {
  const previous = findEnvironment(config, url);
  const updated: EnvironmentEntry = {
    ...(previous ?? { url }),
    client: creds.client,
    clientSecret: creds.clientSecret,
  };
  return replaceEntry(config, previous, updated);
}

/** Forgets the credentials stored for the environment at `url`. */
export function unsetCredentials(config: CliConfig, url: string): CliConfig {
  const previous = findEnvironment(config, url);
  if (previous === undefined) return config;
  const { client: _client, clientSecret: _secret, ...rest } = previous;
  return replaceEntry(config, previous, rest);
}

function replaceEntry(
  config: CliConfig,
  previous: EnvironmentEntry | undefined,
  updated: EnvironmentEntry,
): CliConfig {
  if (previous === undefined) return { environments: [...config.environments, updated] };
  return { environments: config.environments.map((e) => (e === previous ? updated : e)) };
}

function sameUrl(a: string, b: string): boolean {
  return a.replace(/\/+$/, '') === b.replace(/\/+$/, '');
}
