import type { CommandUi, Session } from './command.ts';
import { findEnvironment, type CliConfig } from './config/config-file.ts';
import { DirectorClient } from './director-client/director-client.ts';
import { displayUrl, loadCaCert, normaliseDirectorUrl } from './director-client/director-url.ts';
import { HttpsTransport } from './director-client/https-transport.ts';
import { CliError } from './errors.ts';
import { line } from './output.ts';
import type { GlobalOptions } from './global-options.ts';

type Credentials = { readonly client: string; readonly clientSecret: string };

export interface SessionOptions {
  readonly globals: GlobalOptions;
  readonly config: CliConfig;
  readonly ui: CommandUi;
  /** Transport retry tuning; the stock CLI's 5 × 500 ms by default. */
  readonly attempts?: number;
  readonly retryDelayMs?: number;
}

/**
 * The director this invocation talks to: `-e` (URL or alias, else BOSH_ENVIRONMENT), its CA
 * (`--ca-cert`, else the alias' stored one) and credentials (flags/env, else stored by log-in).
 */
export class DirectorSession implements Session {
  private readonly options: SessionOptions;
  private readonly clients: DirectorClient[] = [];
  private announced: DirectorClient | undefined;

  constructor(options: SessionOptions) {
    this.options = options;
  }

  environmentUrl(): string {
    const name = this.options.globals.environment;
    if (name === undefined) {
      throw new CliError(
        'usage',
        'Expected non-empty Director URL: give -e URL|ALIAS or set BOSH_ENVIRONMENT',
      );
    }
    const entry = findEnvironment(this.options.config, name);
    return displayUrl(normaliseDirectorUrl(entry?.url ?? name));
  }

  async caCert(): Promise<string | undefined> {
    const given = this.options.globals.caCert ?? this.entry()?.caCert;
    return given === undefined ? undefined : loadCaCert(given);
  }

  get credentials(): Credentials | undefined {
    const entry = this.entry();
    const client = this.options.globals.client ?? entry?.client;
    const clientSecret = this.options.globals.clientSecret ?? entry?.clientSecret;
    return client === undefined || clientSecret === undefined ? undefined : { client, clientSecret };
  }

  async director(): Promise<DirectorClient> {
    if (this.announced !== undefined) return this.announced;
    const client = await this.directorWith(this.credentials);
    const who = this.credentials === undefined ? 'anonymous user' : `client '${this.credentials.client}'`;
    this.options.ui.show(line(`Using environment '${this.environmentUrl()}' as ${who}`));
    this.announced = client;
    return client;
  }

  async directorWith(credentials: Credentials | undefined): Promise<DirectorClient> {
    const caCert = await this.caCert();
    const transport = new HttpsTransport({
      baseUrl: new URL(this.environmentUrl()),
      ...(caCert === undefined ? {} : { caCert }),
      ...(credentials === undefined ? {} : { credentials }),
      ...(this.options.attempts === undefined ? {} : { attempts: this.options.attempts }),
      ...(this.options.retryDelayMs === undefined ? {} : { retryDelayMs: this.options.retryDelayMs }),
    });
    const client = new DirectorClient(transport);
    this.clients.push(client);
    return client;
  }

  close(): void {
    for (const client of this.clients) client.close();
  }

  private entry() {
    const name = this.options.globals.environment;
    if (name === undefined) return undefined;
    return (
      findEnvironment(this.options.config, name) ??
      findEnvironment(this.options.config, displayUrl(normaliseDirectorUrl(name)))
    );
  }
}
