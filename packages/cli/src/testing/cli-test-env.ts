import { json, startLocalHttpsServer, type LocalHttpsServer } from './local-https-server.ts';
import { privateHome, runCliCaptured, type CliRun } from './run-cli-in-process.ts';

/*
 * Test support for command tests: a real local HTTPS server playing the director (its `/info`
 * accepts admin:secret), a private HOME, and the CLI run in-process against them.
 */

export const goodAuth = `Basic ${Buffer.from('admin:secret').toString('base64')}`;

export interface CliTestEnv {
  readonly server: LocalHttpsServer;
  readonly home: string;
  /** Runs `refit -e <server> --ca-cert <pem> --client admin --client-secret secret <argv>`. */
  run(
    argv: readonly string[],
    options?: { readonly stdin?: string; readonly auth?: boolean },
  ): Promise<CliRun>;
  /** Requests after the session started, as `METHOD url`. */
  requestLines(): string[];
  close(): Promise<void>;
}

export async function startCliTestEnv(): Promise<CliTestEnv> {
  const server = await startLocalHttpsServer();
  const { home, cleanup } = await privateHome();
  server.route('GET /info', (req, res) =>
    json({
      name: 'test-director',
      uuid: 'uuid-1',
      version: '1.0.0',
      user: req.headers.authorization === goodAuth ? 'admin' : null,
      cpi: 'test-cpi',
      user_authentication: { type: 'basic', options: {} },
      features: { snapshots: { status: false }, local_dns: { status: true } },
    })(req, res),
  );
  return {
    server,
    home,
    run: (argv, options = {}) =>
      runCliCaptured(
        [
          '-e',
          server.url,
          '--ca-cert',
          server.caCert,
          ...(options.auth === false ? [] : ['--client', 'admin', '--client-secret', 'secret']),
          ...argv,
        ],
        { home, ...(options.stdin === undefined ? {} : { stdin: options.stdin }) },
      ),
    requestLines: () => server.requests.map((r) => `${r.method} ${r.url}`),
    close: async () => {
      await server.close();
      await cleanup();
    },
  };
}

/** A task that is done at once, with the given event log and result. */
export function serveFinishedTask(
  server: LocalHttpsServer,
  id: number,
  options: { readonly state?: string; readonly events?: string; readonly result?: string } = {},
): void {
  server.route(`GET /tasks/${id}`, json({ id, state: options.state ?? 'done', description: 'test task' }));
  server.route(`GET /tasks/${id}/output`, (req, res) => {
    const type = new URL(req.url, 'https://x').searchParams.get('type');
    const body = Buffer.from(
      type === 'result' ? (options.result ?? '') : type === 'event' ? (options.events ?? '') : '',
    );
    const offset = Number(/bytes=(\d+)-/.exec(String(req.headers.range ?? ''))?.[1] ?? 0);
    if (req.headers.range !== undefined && offset >= body.length) {
      res.writeHead(416).end();
      return;
    }
    res.writeHead(req.headers.range === undefined ? 200 : 206).end(body.subarray(offset));
  });
}
