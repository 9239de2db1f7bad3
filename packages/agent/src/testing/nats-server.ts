import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface NatsServer {
  readonly url: string;
  readonly port: number;
  readonly user: string;
  readonly pass: string;
  stop(): Promise<void>;
}

/**
 * A real nats-server (Debian's package) on 127.0.0.1 with user/password auth, ready once it says
 * so on stderr. The port is picked free, then bound by nats-server: when another process took it
 * in between (the test lanes run side by side), nats-server exits and another port is tried.
 * (Probing the port with a connection instead could reach the other process's server.)
 */
export async function startNatsServer(user = 'u', pass = 'p'): Promise<NatsServer> {
  for (let attempt = 1; ; attempt += 1) {
    const port = await freePort();
    const child: ChildProcess = spawn(
      'nats-server',
      ['-a', '127.0.0.1', '-p', String(port), '--user', user, '--pass', pass],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const deadline = Date.now() + 10_000;
    while (!stderr.includes('Server is ready') && child.exitCode === null && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    if (stderr.includes('Server is ready') && child.exitCode === null) {
      // Keep draining its log, or nats-server blocks once the pipe is full.
      child.stderr?.removeAllListeners('data');
      child.stderr?.resume();
      return running(child, port, user, pass);
    }
    child.kill('SIGKILL');
    if (!stderr.includes('address already in use') || attempt >= 5) {
      throw new Error(`nats-server did not come up on port ${port}:\n${stderr}`);
    }
  }
}

function running(child: ChildProcess, port: number, user: string, pass: string): NatsServer {
  return {
    url: `nats://${user}:${pass}@127.0.0.1:${port}`,
    port,
    user,
    pass,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) {
          resolve();
          return;
        }
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
