import type { FlagSpec, FlagValues } from './flags/flag-spec.ts';

/** The stock CLI v7's global flags and their environment variables. */
export const globalFlags: readonly FlagSpec[] = [
  {
    name: 'environment',
    short: 'e',
    kind: 'string',
    env: 'BOSH_ENVIRONMENT',
    description: 'Director environment name or URL',
  },
  {
    name: 'ca-cert',
    kind: 'string',
    env: 'BOSH_CA_CERT',
    description: 'Director CA certificate path or value',
  },
  { name: 'client', kind: 'string', env: 'BOSH_CLIENT', description: 'Override username or UAA client' },
  {
    name: 'client-secret',
    kind: 'string',
    env: 'BOSH_CLIENT_SECRET',
    description: 'Override password or UAA client secret',
  },
  { name: 'deployment', short: 'd', kind: 'string', env: 'BOSH_DEPLOYMENT', description: 'Deployment name' },
  { name: 'json', kind: 'boolean', description: 'Output as JSON' },
  { name: 'tty', kind: 'boolean', description: 'Force TTY-like output' },
  {
    name: 'no-color',
    kind: 'boolean',
    description: 'Toggle colorized output (diffs are colored on a terminal)',
  },
  {
    name: 'non-interactive',
    short: 'n',
    kind: 'boolean',
    env: 'BOSH_NON_INTERACTIVE',
    description: "Don't ask for user input",
  },
  { name: 'help', short: 'h', kind: 'boolean', description: 'Show this help message' },
  { name: 'version', short: 'v', kind: 'boolean', description: 'Show CLI version' },
];

export interface GlobalOptions {
  readonly environment: string | undefined;
  readonly caCert: string | undefined;
  readonly client: string | undefined;
  readonly clientSecret: string | undefined;
  readonly deployment: string | undefined;
  readonly json: boolean;
  readonly tty: boolean;
  readonly noColor: boolean;
  readonly nonInteractive: boolean;
  readonly help: boolean;
  readonly version: boolean;
}

const str = (flags: FlagValues, name: string): string | undefined => {
  const value = flags[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
};

export function globalOptionsFrom(flags: FlagValues): GlobalOptions {
  return {
    environment: str(flags, 'environment'),
    caCert: str(flags, 'ca-cert'),
    client: str(flags, 'client'),
    clientSecret: str(flags, 'client-secret'),
    deployment: str(flags, 'deployment'),
    json: flags['json'] === true,
    tty: flags['tty'] === true,
    noColor: flags['no-color'] === true,
    nonInteractive: flags['non-interactive'] === true,
    help: flags['help'] === true,
    version: flags['version'] === true,
  };
}
