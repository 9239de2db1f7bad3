import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createPostgresDatabase } from '../db/test-databases.ts';
import { httpsRequest, type TestResponse } from './https-test-client.ts';

/** TEST SUPPORT: runs the real `refit-director` executable for end-to-end tests. */
export const DIRECTOR_BIN = resolve(dirname(fileURLToPath(import.meta.url)), '../../bin/refit-director');

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const address = server.address();
  await new Promise<void>((ok) => server.close(() => ok()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

export interface DirectorProcess {
  readonly port: number;
  readonly stateDir: string;
  readonly ca: string;
  readonly auth: { readonly client: string; readonly secret: string };
  readonly child: ChildProcess;
  /** Resolves with the exit code/signal once the process is gone. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stdout(): string;
  stderr(): string;
  /** An authenticated request (pass `auth: undefined` via `anonymous` for none). */
  request(options: {
    method?: string;
    path: string;
    body?: string;
    headers?: Record<string, string>;
    anonymous?: boolean;
    auth?: { client: string; secret: string };
  }): Promise<TestResponse>;
  /** SIGTERM (or `signal`) and wait for the exit, SIGKILL after `timeoutMs`. */
  stop(
    signal?: NodeJS.Signals,
    timeoutMs?: number,
  ): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** A director process once it printed its ready line: its CA and admin credentials. */
export interface SpawnedDirector {
  readonly port: number;
  readonly child: ChildProcess;
  readonly ca: string;
  readonly auth: { readonly client: string; readonly secret: string };
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  readonly stdout: () => string;
  readonly stderr: () => string;
}

export interface SpawnDirectorOptions {
  readonly command: string;
  readonly args?: readonly string[];
  readonly stateDir: string;
  readonly configFile?: string;
  readonly port?: number;
  readonly env?: Readonly<Record<string, string>>;
  readonly readyTimeoutMs?: number;
  /** How a port is picked when `port` is not given (default freePort). */
  readonly pickPort?: () => Promise<number>;
}

/** The director exited before ready because its port was taken. */
class PortTaken extends Error {}

/**
 * Spawns `command args… --state-dir DIR --port P [--config FILE]` (the bin wrapper, or Node with
 * main.ts) and waits for `director ready: https://127.0.0.1:P`; rejects with its stderr if it
 * exits first or is not ready in time (then it is killed). Without `port`, a free one is picked;
 * another process may bind it before the director does (the test lanes run side by side), so a
 * director that exits on EADDRINUSE is started again on another port.
 */
export async function spawnDirector(options: SpawnDirectorOptions): Promise<SpawnedDirector> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await spawnOnce(options, options.port ?? (await (options.pickPort ?? freePort)()));
    } catch (error) {
      if (!(error instanceof PortTaken) || options.port !== undefined || attempt >= 5) throw error;
    }
  }
}

async function spawnOnce(options: SpawnDirectorOptions, port: number): Promise<SpawnedDirector> {
  const args = [...(options.args ?? []), '--state-dir', options.stateDir, '--port', String(port)];
  if (options.configFile !== undefined) args.push('--config', options.configFile);
  const child = spawn(options.command, args, {
    env: { ...process.env, REFIT_DIRECTOR_TEST_TASKS: '1', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((ok) =>
    child.once('exit', (code, signal) => ok({ code, signal })),
  );
  const readyLine = `director ready: https://127.0.0.1:${port}\n`;
  const readyTimeoutMs = options.readyTimeoutMs ?? 30_000;
  await new Promise<void>((ok, fail) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      fail(new Error(`director not ready after ${readyTimeoutMs} ms\n${err}`));
    }, readyTimeoutMs);
    const check = () => {
      if (out.includes(readyLine)) {
        clearTimeout(timer);
        ok();
      }
    };
    child.stdout.on('data', check);
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      const message = `director exited (${code ?? signal}) before ready:\n${err}`;
      fail(err.includes('EADDRINUSE') ? new PortTaken(message) : new Error(message));
    });
  });
  const ca = await readFile(join(options.stateDir, 'ca.pem'), 'utf8');
  const credentials = JSON.parse(await readFile(join(options.stateDir, 'credentials.json'), 'utf8')) as {
    client: string;
    client_secret: string;
  };
  return {
    port,
    child,
    ca,
    auth: { client: credentials.client, secret: credentials.client_secret },
    exited,
    stdout: () => out,
    stderr: () => err,
  };
}

/** Spawns the director (its bin wrapper) and waits for its ready line. */
export async function startDirector(
  options: Omit<SpawnDirectorOptions, 'command' | 'args'>,
): Promise<DirectorProcess> {
  const spawned = await spawnDirector({ command: DIRECTOR_BIN, ...options });
  const { port, ca, auth, child, exited } = spawned;
  return {
    port,
    stateDir: options.stateDir,
    ca,
    auth,
    child,
    exited,
    stdout: spawned.stdout,
    stderr: spawned.stderr,
    request: (r) =>
      httpsRequest({
        port,
        ca,
        path: r.path,
        ...(r.method === undefined ? {} : { method: r.method }),
        ...(r.body === undefined ? {} : { body: r.body }),
        ...(r.headers === undefined ? {} : { headers: r.headers }),
        ...(r.anonymous === true ? {} : { auth: r.auth ?? auth }),
      }),
    async stop(signal = 'SIGTERM', timeoutMs = 20_000) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      const result = await exited;
      clearTimeout(timer);
      return result;
    },
  };
}

/** Runs the director once, expecting it to refuse to start: its exit code and stderr. */
export async function runDirectorExpectingFailure(
  args: readonly string[],
): Promise<{ code: number | null; stderr: string; stdout: string }> {
  const child = spawn(DIRECTOR_BIN, [...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  let stdout = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  const code = await new Promise<number | null>((ok) => child.once('exit', (c) => ok(c)));
  clearTimeout(timer);
  return { code, stderr, stdout };
}

/** A state dir and, for PostgreSQL, a fresh database with a config file pointing at it. */
export interface DirectorBackend {
  readonly name: 'sqlite' | 'postgres';
  readonly skip: string | false;
  setup(): Promise<{ stateDir: string; configFile?: string; cleanup(): Promise<void> }>;
}

export function directorBackends(): DirectorBackend[] {
  const pgUrl = process.env.REFIT_TEST_PG_URL;
  const havePg = pgUrl !== undefined && pgUrl !== '';
  if (!havePg && process.env.CI !== undefined && process.env.CI !== '') {
    throw new Error('CI is set but REFIT_TEST_PG_URL is not: run the tests through scripts/with-postgres');
  }
  return [
    {
      name: 'sqlite',
      skip: false,
      async setup() {
        const dir = await mkdtemp(join(tmpdir(), 'refit-e2e-'));
        return { stateDir: join(dir, 'state'), cleanup: () => rm(dir, { recursive: true, force: true }) };
      },
    },
    {
      name: 'postgres',
      skip: havePg ? false : 'REFIT_TEST_PG_URL is not set (run through scripts/with-postgres)',
      async setup() {
        const dir = await mkdtemp(join(tmpdir(), 'refit-e2e-'));
        const database = await createPostgresDatabase();
        const configFile = join(dir, 'director.yml');
        await writeFile(configFile, `db:\n  url: ${JSON.stringify(database.url)}\n`);
        return {
          stateDir: join(dir, 'state'),
          configFile,
          async cleanup() {
            await database.drop();
            await rm(dir, { recursive: true, force: true });
          },
        };
      },
    },
  ];
}

/** Polls until `predicate` holds (fails after `timeoutMs`). */
export async function eventually<T>(
  what: string,
  probe: () => Promise<T>,
  predicate: (value: T) => boolean,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (predicate(value)) return value;
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}: last ${JSON.stringify(value)}`);
    await new Promise((ok) => setTimeout(ok, 50));
  }
}
