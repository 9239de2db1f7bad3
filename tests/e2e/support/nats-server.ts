import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { connect, type NatsConnection } from 'nats';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

/** A real nats-server on 127.0.0.1 with generated credentials (never an open server). */
export class NatsServer {
  readonly user = 'refit';
  readonly password: string;
  readonly port: number;
  readonly #child: ChildProcess;

  private constructor(child: ChildProcess, port: number, password: string) {
    this.#child = child;
    this.port = port;
    this.password = password;
  }

  /**
   * The port is picked free, then bound by nats-server: when another process took it in between
   * (the test lanes run side by side), nats-server exits and another port is tried.
   */
  static async start(signal: AbortSignal): Promise<NatsServer> {
    for (let attempt = 1; ; attempt += 1) {
      const port = await freePort();
      const password = randomBytes(12).toString('hex');
      const child = spawn(
        'nats-server',
        ['-a', '127.0.0.1', '-p', String(port), '--user', 'refit', '--pass', password],
        {
          stdio: ['ignore', 'ignore', 'pipe'],
        },
      );
      const server = new NatsServer(child, port, password);
      let stderr = '';
      child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
      while (!stderr.includes('Server is ready') && child.exitCode === null) {
        if (signal.aborted) child.kill('SIGKILL');
        signal.throwIfAborted();
        await new Promise((r) => setTimeout(r, 20));
      }
      if (child.exitCode === null) return server;
      if (!stderr.includes('address already in use') || attempt >= 5) {
        throw new Error(`nats-server exited: ${stderr}`);
      }
    }
  }

  /** The URL with credentials, as agent settings carry it. */
  get url(): string {
    return `nats://${this.user}:${this.password}@127.0.0.1:${this.port}`;
  }

  connect(): Promise<NatsConnection> {
    return connect({ servers: `127.0.0.1:${this.port}`, user: this.user, pass: this.password });
  }

  async stop(): Promise<void> {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return;
    const exited = new Promise((r) => this.#child.once('exit', r));
    this.#child.kill('SIGTERM');
    await exited;
  }
}
