/**
 * Typed CLI errors with stable codes. `main.ts` prints `message` and exits 1; nothing matches on
 * message text.
 */
export class CliError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** Bad command line: unknown command or flag, missing argument, bad value. */
export class UsageError extends CliError {
  constructor(message: string) {
    super('usage', message);
  }
}

/** The config file cannot be read, parsed or written. */
export class ConfigFileError extends CliError {
  constructor(message: string, options?: ErrorOptions) {
    super('config', message, options);
  }
}

/** The operator said no at a confirmation prompt. */
export class StoppedError extends CliError {
  constructor() {
    super('stopped', 'Stopped');
  }
}
