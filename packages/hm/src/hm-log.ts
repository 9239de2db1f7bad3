import { createWriteStream, type WriteStream } from 'node:fs';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const RANK: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

/** The monitor's log: one JSON object per line (`{"time","level","msg",...fields}`). */
export interface HmLog {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  close(): Promise<void>;
}

export interface HmLogOptions {
  /** A file to append to; null writes to stdout. */
  readonly file: string | null;
  readonly level: LogLevel;
}

export function createHmLog(options: HmLogOptions): HmLog {
  const stream: WriteStream | NodeJS.WriteStream =
    options.file === null ? process.stdout : createWriteStream(options.file, { flags: 'a', mode: 0o600 });
  const write = (level: LogLevel, msg: string, fields?: Record<string, unknown>) => {
    if (RANK[level] < RANK[options.level]) return;
    stream.write(`${JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields })}\n`);
  };
  return {
    debug: (msg, fields) => write('debug', msg, fields),
    info: (msg, fields) => write('info', msg, fields),
    warn: (msg, fields) => write('warn', msg, fields),
    error: (msg, fields) => write('error', msg, fields),
    close: () =>
      new Promise<void>((resolve) => {
        if (stream === process.stdout) resolve();
        else (stream as WriteStream).end(() => resolve());
      }),
  };
}

export const errorText = (error: unknown): string => (error instanceof Error ? error.message : String(error));
