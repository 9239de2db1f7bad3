// The long-running processes the demo starts (director, health monitor): each in its own process
// group (so the terminal's Ctrl-C reaches only the demo, which then stops them in order), output
// to a log file.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { createServer } from 'node:net';

export class DemoError extends Error {
  readonly logs: readonly string[];
  constructor(message: string, logs: readonly string[] = [], options?: ErrorOptions) {
    super(message, options);
    this.logs = logs;
  }
}

export interface Started {
  readonly child: ChildProcess;
  readonly log: string;
  readonly exited: Promise<number | null>;
}

/** Refuses early, with a clear message, when something already listens on the port. */
export async function assertPortFree(port: number): Promise<void> {
  await new Promise<void>((ok, fail) => {
    const server = createServer();
    server.once('error', (error: NodeJS.ErrnoException) =>
      fail(
        new DemoError(
          error.code === 'EADDRINUSE'
            ? `port ${port} on 127.0.0.1 is taken (a director from another run? see: ss -ltnp 'sport = :${port}'); stop it or pass --port N`
            : `cannot listen on 127.0.0.1:${port}: ${error.message}`,
        ),
      ),
    );
    server.listen({ host: '127.0.0.1', port, exclusive: true }, () => server.close(() => ok()));
  });
}

/**
 * Spawns `command` detached with stdout+stderr appended to `log`, and resolves once a line of
 * its output matches `ready` (rejects if it exits first or after `timeoutMs`).
 */
export async function startLogged(
  command: string,
  args: readonly string[],
  options: { log: string; ready: RegExp; timeoutMs: number; what: string },
): Promise<Started & { readyLine: string }> {
  const out = createWriteStream(options.log, { flags: 'a' });
  const child = spawn(command, [...args], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<number | null>((ok) => child.once('exit', (code) => ok(code)));
  let seen = '';
  const readyLine = await new Promise<string>((ok, fail) => {
    const timer = setTimeout(() => {
      fail(new DemoError(`${options.what} not ready after ${options.timeoutMs} ms`, [options.log]));
    }, options.timeoutMs);
    const onData = (chunk: Buffer) => {
      out.write(chunk);
      seen = (seen + chunk.toString()).slice(-65536);
      const line = seen.split('\n').find((l) => options.ready.test(l));
      if (line !== undefined) {
        clearTimeout(timer);
        ok(line);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (chunk: Buffer) => out.write(chunk));
    child.once('error', (error) => {
      clearTimeout(timer);
      fail(new DemoError(`${options.what} could not start: ${error.message}`, [options.log]));
    });
    void exited.then((code) => {
      clearTimeout(timer);
      fail(new DemoError(`${options.what} exited (code ${code}) before it was ready`, [options.log]));
    });
  }).catch((error: unknown) => {
    if (child.exitCode === null) child.kill('SIGKILL');
    throw error;
  });
  child.stdout.removeAllListeners('data');
  child.stdout.on('data', (chunk: Buffer) => out.write(chunk));
  void exited.then(() => out.end());
  return { child, log: options.log, exited, readyLine };
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once it exited. */
export async function stopProcess(started: Started, graceMs: number): Promise<void> {
  if (started.child.exitCode !== null || started.child.signalCode !== null) return;
  started.child.kill('SIGTERM');
  const timer = setTimeout(() => started.child.kill('SIGKILL'), graceMs);
  await started.exited;
  clearTimeout(timer);
}
