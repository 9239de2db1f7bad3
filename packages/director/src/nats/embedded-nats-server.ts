import { spawn, type ChildProcess } from 'node:child_process';
import { constants, existsSync } from 'node:fs';
import { access, mkdir, open, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { delimiter, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect } from 'nats';
import type { DirectorLog } from '../config/director-log.ts';
import {
  loadOrCreateNatsCredentials,
  saveNatsCredentials,
  type NatsCredentialsFile,
} from './nats-credentials.ts';
import type { AgentNatsUser } from './agent-nats-users.ts';
import { renderNatsServerConfig } from './nats-server-config.ts';

export interface EmbeddedNatsOptions {
  /** `DIR/nats`: credentials.json, nats-server.conf, nats-server.pid, nats-server.log. */
  readonly dir: string;
  /** The nats-server executable; found on PATH (and /usr/sbin) when null. */
  readonly executable: string | null;
  /** A fixed port; null = the port recorded at the first start, else the first free from 4222. */
  readonly port: number | null;
  readonly log: DirectorLog;
  readonly readyTimeoutMs?: number;
  /** The per-agent users to configure, read at every (re)start and reload; none when absent. */
  readonly agentUsers?: () => Promise<readonly AgentNatsUser[]>;
}

/** Where the server listens and who may connect: what the director hands to its clients. */
export interface NatsEndpoint {
  /** `nats://127.0.0.1:<port>`, without credentials. */
  readonly url: string;
  readonly director: NatsCredentialsFile['director'];
  /** Null for an existing NATS configured without a health monitor user. */
  readonly hm: NatsCredentialsFile['hm'] | null;
  readonly agents: NatsCredentialsFile['agents'];
}

/** The embedded server always has all three users. */
export interface EmbeddedNatsEndpoint extends NatsEndpoint {
  readonly hm: NatsCredentialsFile['hm'];
}

export class NatsServerError extends Error {
  override name = 'NatsServerError';
}

const FIRST_PORT = 4222;
const PORT_CANDIDATES = 100;
const MAX_RESTART_DELAY_MS = 10_000;
/** A server that ran this long before dying is restarted at once, not after a backoff. */
const HEALTHY_RUN_MS = 30_000;

/**
 * The nats-server the director starts when its config names no NATS (ARCHITECTURE: embedded
 * defaults). Bound to 127.0.0.1, three users with BOSH's permissions (nats-server-config.ts),
 * supervised: restarted if it dies, stopped with the director. It is spawned through
 * `setpriv --pdeathsig TERM` so that a director killed with SIGKILL does not leave it running,
 * and a server left by an earlier director (its pid file) is stopped before starting.
 */
export class EmbeddedNatsServer {
  readonly endpoint: EmbeddedNatsEndpoint;
  readonly #options: EmbeddedNatsOptions;
  readonly #command: readonly string[];
  readonly #port: number;
  #child: ChildProcess | null = null;
  #stopping = false;
  #restartTimer: NodeJS.Timeout | null = null;
  #restarts = 0;
  #restarting: Promise<void> | null = null;
  /** Reloads run one after the other, each rendering the users as they are then. */
  #reloads: Promise<void> = Promise.resolve();

  private constructor(
    options: EmbeddedNatsOptions,
    command: readonly string[],
    port: number,
    credentials: NatsCredentialsFile,
  ) {
    this.#options = options;
    this.#command = command;
    this.#port = port;
    this.endpoint = Object.freeze({
      url: `nats://127.0.0.1:${port}`,
      director: credentials.director,
      hm: credentials.hm,
      agents: credentials.agents,
    });
  }

  /** Starts the server and resolves once the director's user can connect. */
  static async start(options: EmbeddedNatsOptions, signal?: AbortSignal): Promise<EmbeddedNatsServer> {
    const { dir } = options;
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const credentialsPath = join(dir, 'credentials.json');
    const credentials = await loadOrCreateNatsCredentials(credentialsPath);
    await stopLeftover(join(dir, 'nats-server.pid'), join(dir, 'nats-server.conf'), options.log);
    const command = await serverCommand(options.executable);
    const fixed = options.port ?? credentials.port;
    const candidates = fixed !== null ? [fixed] : await freePorts(FIRST_PORT, PORT_CANDIDATES);
    let lastError: Error | null = null;
    for (const port of candidates) {
      signal?.throwIfAborted();
      const server = new EmbeddedNatsServer(options, command, port, credentials);
      try {
        await server.#startOnce(signal);
      } catch (error) {
        lastError = error as Error;
        // Another process took the port between the probe and the bind: try the next one.
        if (fixed === null && /address already in use/i.test(lastError.message)) continue;
        throw error;
      }
      if (credentials.port !== port && options.port === null) {
        await saveNatsCredentials(credentialsPath, { ...credentials, port });
      }
      return server;
    }
    throw lastError ?? new NatsServerError(`no free port for nats-server from ${FIRST_PORT}`);
  }

  get port(): number {
    return this.#port;
  }

  /** The running server's pid (for tests and diagnostics), or null between restarts. */
  get pid(): number | null {
    return this.#child?.pid ?? null;
  }

  /** How many times the supervisor restarted the server. */
  get restarts(): number {
    return this.#restarts;
  }

  /**
   * Rewrites the config with the current per-agent users and has nats-server reload it (SIGHUP),
   * then waits until `ready` (a user just added) can connect and every `gone` user (just removed)
   * is refused: nats-server applies a reload asynchronously, so a revocation is only done once it
   * is seen. A removed user's connections are closed by the reload.
   */
  reload(
    ready?: { user: string; password: string },
    signal?: AbortSignal,
    gone: readonly { user: string; password: string }[] = [],
  ): Promise<void> {
    const run = this.#reloads.then(async () => {
      await this.#restarting;
      const configPath = await this.#writeConfig();
      const child = this.#child;
      // Between restarts: the next start reads the config just written.
      if (child === null) return;
      child.kill('SIGHUP');
      if (ready !== undefined) {
        await waitReady(child, this.#port, ready, this.#options.readyTimeoutMs ?? 10_000, signal).catch(
          (error: unknown) => {
            throw new NatsServerError(
              `nats-server did not accept the new user after reloading ${configPath}: ${(error as Error).message}`,
              { cause: error },
            );
          },
        );
      }
      for (const user of gone) {
        await waitRefused(this.#port, user, this.#options.readyTimeoutMs ?? 10_000, signal).catch(
          (error: unknown) => {
            throw new NatsServerError(
              `nats-server still accepts ${user.user} after reloading ${configPath}: ${(error as Error).message}`,
              { cause: error },
            );
          },
        );
      }
    });
    this.#reloads = run.catch(() => undefined);
    return run;
  }

  async #writeConfig(): Promise<string> {
    const { dir } = this.#options;
    const configPath = join(dir, 'nats-server.conf');
    const agentUsers = (await this.#options.agentUsers?.()) ?? [];
    const tmp = `${configPath}.tmp`;
    await writeFile(
      tmp,
      renderNatsServerConfig({
        port: this.#port,
        pidFile: join(dir, 'nats-server.pid'),
        director: this.endpoint.director,
        hm: this.endpoint.hm,
        agents: this.endpoint.agents,
        agentUsers,
      }),
      { mode: 0o600 },
    );
    await rename(tmp, configPath);
    return configPath;
  }

  async #startOnce(signal?: AbortSignal): Promise<void> {
    const { dir } = this.#options;
    const configPath = await this.#writeConfig();
    const logPath = join(dir, 'nats-server.log');
    const logStart = await fileSize(logPath);
    const child = await this.#spawn(configPath, logPath);
    try {
      await waitReady(
        child,
        this.#port,
        this.endpoint.director,
        this.#options.readyTimeoutMs ?? 10_000,
        signal,
      );
    } catch (error) {
      await terminate(child);
      const tail = (await readFile(logPath, 'utf8').catch(() => '')).slice(logStart).trim().slice(-2000);
      throw new NatsServerError(
        `nats-server did not start on 127.0.0.1:${this.#port}: ${(error as Error).message}${tail ? `\n${tail}` : ''}`,
        {
          cause: error,
        },
      );
    }
    this.#supervise(child);
  }

  async #spawn(configPath: string, logPath: string): Promise<ChildProcess> {
    const logFile = await open(logPath, 'a', 0o600);
    try {
      const [file = 'nats-server', ...args] = [...this.#command, '-c', configPath];
      const child = spawn(file, args, { stdio: ['ignore', logFile.fd, logFile.fd] });
      await new Promise<void>((resolve, reject) => {
        child.once('spawn', resolve);
        child.once('error', reject);
      });
      this.#child = child;
      return child;
    } finally {
      await logFile.close();
    }
  }

  #supervise(child: ChildProcess): void {
    const started = Date.now();
    child.once('exit', (code, signal) => {
      if (this.#child === child) this.#child = null;
      if (this.#stopping) return;
      this.#options.log.warn('nats-server exited; restarting it', { code, signal });
      this.#scheduleRestart(Date.now() - started >= HEALTHY_RUN_MS ? 0 : null);
    });
  }

  /** Restarts after `delayMs`, or after a backoff growing with each restart (null). */
  #scheduleRestart(delayMs: number | null): void {
    const delay = delayMs ?? Math.min(MAX_RESTART_DELAY_MS, 250 * 2 ** Math.min(this.#restarts, 6));
    this.#restartTimer = setTimeout(() => {
      this.#restartTimer = null;
      if (this.#stopping) return;
      this.#restarts += 1;
      this.#restarting = this.#startOnce()
        .catch((error: unknown) => {
          this.#options.log.error('nats-server restart failed', { error: (error as Error).message });
          // Keep trying: e.g. the port is briefly held by the dead server's socket.
          if (!this.#stopping) this.#scheduleRestart(null);
        })
        .finally(() => {
          this.#restarting = null;
        });
    }, delay);
  }

  /** Stops the server (SIGTERM, then SIGKILL after 5 s) and its supervision. */
  async stop(): Promise<void> {
    this.#stopping = true;
    if (this.#restartTimer !== null) clearTimeout(this.#restartTimer);
    this.#restartTimer = null;
    await this.#restarting;
    const child = this.#child;
    this.#child = null;
    if (child !== null) await terminate(child);
    await rm(join(this.#options.dir, 'nats-server.pid'), { force: true });
  }
}

async function fileSize(path: string): Promise<number> {
  try {
    return (await readFile(path)).length;
  } catch {
    return 0;
  }
}

/** Tries `user` once: null when it connected, else the error. */
async function tryConnect(port: number, user: { user: string; password: string }): Promise<Error | null> {
  try {
    const nc = await connect({
      servers: `127.0.0.1:${port}`,
      user: user.user,
      pass: user.password,
      timeout: 1000,
      reconnect: false,
      name: 'refit-director probe',
    });
    await nc.close();
    return null;
  } catch (error) {
    return error as Error;
  }
}

/** Resolves once `user` can connect, polling every 50 ms; fails if the server exits. */
async function waitReady(
  child: ChildProcess,
  port: number,
  user: { user: string; password: string },
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    signal?.throwIfAborted();
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new NatsServerError(`exited (${child.exitCode ?? child.signalCode})`);
    }
    const error = await tryConnect(port, user);
    if (error === null) return;
    if (Date.now() > deadline) throw new NatsServerError(`not ready after ${timeoutMs} ms`, { cause: error });
    await sleep(50);
  }
}

/** Resolves once `user` can no longer connect (an authorization error), polling every 50 ms. */
async function waitRefused(
  port: number,
  user: { user: string; password: string },
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    signal?.throwIfAborted();
    const error = await tryConnect(port, user);
    if (error !== null && /authori[sz]ation/i.test(error.message)) return;
    if (Date.now() > deadline) throw new NatsServerError(`still accepted after ${timeoutMs} ms`);
    await sleep(50);
  }
}

async function terminate(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

/** nats-server, run under `setpriv --pdeathsig TERM` when util-linux's setpriv is there. */
async function serverCommand(configured: string | null): Promise<string[]> {
  const server = configured ?? (await findOnPath('nats-server'));
  if (server === null) {
    throw new NatsServerError(
      "nats-server not found on PATH or in /usr/sbin (install Debian's nats-server: scripts/setup), or set nats.executable or nats.url",
    );
  }
  const setpriv = await findOnPath('setpriv');
  return setpriv === null ? [server] : [setpriv, '--pdeathsig', 'TERM', '--', server];
}

async function findOnPath(name: string): Promise<string | null> {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/bin', '/sbin', '/bin'];
  for (const dir of dirs.filter((d) => d.length > 0)) {
    const candidate = join(dir, name);
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // next
    }
  }
  return null;
}

/** Up to `count` ports from `first` that accept a listener on 127.0.0.1 right now. */
async function freePorts(first: number, count: number): Promise<number[]> {
  const free: number[] = [];
  for (let port = first; port < first + count; port++) {
    if (await canListen(port)) free.push(port);
  }
  return free;
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** A server an earlier director left (killed before it could stop it): stop it first. */
async function stopLeftover(pidFile: string, configPath: string, log: DirectorLog): Promise<void> {
  const pid = Number((await readFile(pidFile, 'utf8').catch(() => '')).trim());
  if (!Number.isInteger(pid) || pid <= 0) return;
  const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
  if (!cmdline.includes('nats-server') || !cmdline.includes(configPath)) return;
  log.warn('stopping a nats-server left by an earlier director', { pid });
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  for (let i = 0; i < 100 && existsSync(`/proc/${pid}`); i++) await sleep(50);
  if (existsSync(`/proc/${pid}`)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
}
