import type { z } from 'zod';
import type { CliConfig } from './config/config-file.ts';
import type { DirectorClient } from './director-client/director-client.ts';
import type { TaskOutputSink } from './director-client/follow-task.ts';
import type { UploadProgress } from './director-client/upload-body.ts';
import type { FlagSpec } from './flags/flag-spec.ts';
import type { GlobalOptions } from './global-options.ts';
import type { CommandResult, OutputItem } from './output.ts';

/**
 * What a command may ask of the terminal while it runs. Implemented in ui/ (the only place that
 * prints); commands hand it data.
 */
export interface CommandUi {
  /** Output that must appear before the command ends (a diff before its confirmation, …). */
  show(item: OutputItem): void;
  /** `Continue? [yN]`; resolves on yes, throws StoppedError on no. Yes without asking under -n. */
  confirm(): Promise<void>;
  askText(label: string): Promise<string>;
  askPassword(label: string): Promise<string>;
  /** Receives a followed task's output: `events` renders the event log, `plain` raw chunks. */
  taskSink(kind: 'events' | 'plain'): TaskOutputSink;
  /** A progress callback for an upload (draws a bar on a terminal, nothing otherwise). */
  uploadProgress(): UploadProgress;
}

/** The director this invocation talks to, resolved from flags, environment variables and config. */
export interface Session {
  /** The director URL (`https://host:port`); throws when no environment was given. */
  environmentUrl(): string;
  /** The CA certificate (PEM) to trust, when one was given or stored. */
  caCert(): Promise<string | undefined>;
  /** A client with the session's credentials (announces `Using environment …` once). */
  director(): Promise<DirectorClient>;
  /** A client with other credentials (log-in), or none. */
  directorWith(
    credentials: { readonly client: string; readonly clientSecret: string } | undefined,
  ): Promise<DirectorClient>;
  readonly credentials: { readonly client: string; readonly clientSecret: string } | undefined;
}

/** The CLI's own config file (`~/.refit/config`). */
export interface ConfigStore {
  load(): Promise<CliConfig>;
  save(config: CliConfig): Promise<void>;
}

export interface CommandDeps {
  readonly globals: GlobalOptions;
  readonly session: Session;
  readonly config: ConfigStore;
  readonly ui: CommandUi;
  /** Task polling interval; the stock CLI's 500 ms unless a test shortens it. */
  readonly taskPollIntervalMs: number;
}

/**
 * One CLI command: its name, flags and argument schema (validated once, at the edge), and a run
 * function returning data.
 */
export interface Command<A> {
  readonly name: string;
  readonly aliases?: readonly string[];
  readonly summary: string;
  /** Positional arguments as shown in usage, e.g. `NAME/VERSION`. */
  readonly usage?: string;
  readonly flags: readonly FlagSpec[];
  readonly args: z.ZodType<A>;
  run(deps: CommandDeps, args: A, signal: AbortSignal): Promise<CommandResult>;
}
