/** The agent's log: one line per event on stderr (the stemcell's init captures it). */
export interface Log {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export function streamLog(write: (line: string) => void): Log {
  const at = (level: string, message: string): void =>
    write(`${new Date().toISOString()} ${level} ${message}\n`);
  return {
    info: (m) => at('INFO', m),
    warn: (m) => at('WARN', m),
    error: (m) => at('ERROR', m),
  };
}

export const silentLog: Log = { info: () => {}, warn: () => {}, error: () => {} };
