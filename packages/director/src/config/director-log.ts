import { appendFileSync } from 'node:fs';

export const LogLevel = { debug: 'debug', info: 'info', warn: 'warn', error: 'error' } as const;
export type LogLevel = (typeof LogLevel)[keyof typeof LogLevel];
const rank: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export type LogFields = Readonly<Record<string, string | number | boolean | null | undefined>>;

/** The director's own log. Callers pass messages and plain fields; never a secret or a header. */
export interface DirectorLog {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

/**
 * JSON lines to a file (`<stateDir>/director.log`) and plain lines to stderr, both filtered by
 * level. stdout is left alone: it carries only the ready line.
 */
export function createDirectorLog(options: {
  readonly file: string | null;
  readonly level: LogLevel;
  readonly stderr: boolean;
}): DirectorLog {
  const write = (level: LogLevel, message: string, fields: LogFields = {}) => {
    if (rank[level] < rank[options.level]) return;
    const time = new Date().toISOString();
    if (options.file !== null) {
      appendFileSync(options.file, `${JSON.stringify({ time, level, message, ...fields })}\n`, {
        mode: 0o600,
      });
    }
    if (options.stderr) {
      const extra = Object.entries(fields)
        .filter(([, value]) => value !== undefined)
        .map(([key, value]) => ` ${key}=${JSON.stringify(value)}`)
        .join('');
      process.stderr.write(`${time} ${level.toUpperCase()} ${message}${extra}\n`);
    }
  };
  return {
    debug: (message, fields) => write('debug', message, fields),
    info: (message, fields) => write('info', message, fields),
    warn: (message, fields) => write('warn', message, fields),
    error: (message, fields) => write('error', message, fields),
  };
}

/** A log that drops everything (unit tests). */
export const silentLog: DirectorLog = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};
