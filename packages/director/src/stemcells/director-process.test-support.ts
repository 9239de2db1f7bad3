// Spawns the real refit-director for the stemcell/rootfs end-to-end tests and the upload bench,
// and talks to it over HTTPS with its CA and admin credentials.
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { request as httpsRequest, type RequestOptions } from 'node:https';
import type { IncomingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { createTestCpi, type TestCpi } from '@refit/testkit/cpi/test-cpi-fixture.ts';
import type { TestCpiConfig } from '@refit/testkit/cpi/test-cpi-config.ts';
import { stringify } from 'yaml';
import { freePort, spawnDirector } from '../api/director-process.test-support.ts';
import type { Db, Dialect } from '../db/db.ts';
import { openDb } from '../db/open-db.ts';
import { createPostgresDatabase } from '../db/test-databases.ts';

const mainTs = fileURLToPath(new URL('../main.ts', import.meta.url));

export { freePort };

export interface Reply {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly text: string;
  json<T = unknown>(): T;
}

export interface TaskJson {
  readonly id: number;
  readonly state: string;
  readonly description: string;
  readonly result: string | null;
}

export interface RunningDirector {
  readonly port: number;
  readonly pid: number;
  readonly stateDir: string;
  readonly child: ChildProcess;
  /** What the director wrote to stderr so far (its log). */
  stderr(): string;
  request(
    method: string,
    path: string,
    options?: { body?: string | Buffer | Readable; headers?: Record<string, string>; timeoutMs?: number },
  ): Promise<Reply>;
  /** Follows a 302 to /tasks/<id>: the task id. */
  taskOf(reply: Reply): number;
  /** Polls the task until it is no longer queued/processing/cancelling. */
  waitTask(id: number, timeoutMs?: number): Promise<TaskJson>;
  output(id: number, type: 'event' | 'result' | 'debug' | 'cpi'): Promise<string>;
  /** SIGKILLs the director and waits for it to be gone. */
  kill(): Promise<void>;
  /** SIGTERM, then SIGKILL after a grace period. */
  stop(): Promise<void>;
}

/** Starts `refit-director --state-dir DIR --port P [--config FILE]` and waits for its ready line. */
export async function startDirector(options: {
  readonly stateDir: string;
  readonly configFile?: string;
  readonly port?: number;
  readonly readyTimeoutMs?: number;
  /** Extra Node flags for the director process (e.g. `--max-semi-space-size=1`). */
  readonly nodeFlags?: readonly string[];
}): Promise<RunningDirector> {
  const spawned = await spawnDirector({
    command: process.execPath,
    args: ['--disable-warning=ExperimentalWarning', ...(options.nodeFlags ?? []), mainTs],
    stateDir: options.stateDir,
    ...(options.configFile === undefined ? {} : { configFile: options.configFile }),
    ...(options.port === undefined ? {} : { port: options.port }),
    ...(options.readyTimeoutMs === undefined ? {} : { readyTimeoutMs: options.readyTimeoutMs }),
  });
  const { port, ca, child } = spawned;
  const authorization = `Basic ${Buffer.from(`${spawned.auth.client}:${spawned.auth.secret}`).toString('base64')}`;
  const exited = spawned.exited.then(() => undefined);

  const request: RunningDirector['request'] = (method, path, opts = {}) =>
    new Promise((resolve, reject) => {
      const headers: Record<string, string> = { authorization, ...opts.headers };
      if (typeof opts.body === 'string' || Buffer.isBuffer(opts.body)) {
        headers['content-length'] = String(Buffer.byteLength(opts.body));
      }
      const requestOptions: RequestOptions = {
        host: '127.0.0.1',
        port,
        method,
        path,
        ca,
        headers,
        agent: false,
        timeout: opts.timeoutMs ?? 30_000,
      };
      const req = httpsRequest(requestOptions, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            text,
            json: <T>() => JSON.parse(text) as T,
          });
        });
      });
      req.on('timeout', () => req.destroy(new Error(`${method} ${path} timed out`)));
      req.on('error', reject);
      if (opts.body === undefined) req.end();
      else if (typeof opts.body === 'string' || Buffer.isBuffer(opts.body)) req.end(opts.body);
      else opts.body.pipe(req);
    });

  const director: RunningDirector = {
    port,
    pid: child.pid ?? 0,
    stateDir: options.stateDir,
    child,
    stderr: spawned.stderr,
    request,
    taskOf(reply) {
      const location = reply.headers.location ?? '';
      const match = /\/tasks\/(\d+)$/.exec(location);
      if (reply.status !== 302 || !match?.[1]) {
        throw new Error(`expected 302 to a task, got ${reply.status} ${location} ${reply.text}`);
      }
      return Number(match[1]);
    },
    async waitTask(id, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const task = (await request('GET', `/tasks/${id}`)).json<TaskJson>();
        if (!['queued', 'processing', 'cancelling'].includes(task.state)) return task;
        if (Date.now() > deadline) throw new Error(`task ${id} still ${task.state} after ${timeoutMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    },
    async output(id, type) {
      const reply = await request('GET', `/tasks/${id}/output?type=${type}`);
      return reply.status === 204 ? '' : reply.text;
    },
    async kill() {
      child.kill('SIGKILL');
      await exited;
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
  return director;
}

/** A director with a test CPI in a temp dir, plus what the upload tests inspect. */
export interface UploadLab {
  readonly dir: string;
  readonly stateDir: string;
  readonly cpi: TestCpi;
  /** A separate connection to the director's database (SQLite file or PostgreSQL). */
  readonly db: Db;
  director: RunningDirector;
  /** Files left in the upload scratch folders (tmpDir/stemcell-uploads, tmpDir/rootfs-uploads). */
  scratchLeftovers(): Promise<string[]>;
  /** Every file in the blobstore dir (blobs, sha1 notes and anything in .incoming). */
  blobFiles(): Promise<string[]>;
  /** Kills the director (SIGKILL) if running and starts it again on the same state. */
  restart(): Promise<void>;
  cleanup(): Promise<void>;
}

export async function startUploadLab(options: {
  readonly backend: Dialect;
  readonly cpi?: Omit<TestCpiConfig, 'state_dir'>;
  readonly cpiTimeoutSeconds?: number;
  readonly nodeFlags?: readonly string[];
}): Promise<UploadLab> {
  const dir = await mkdtemp(join(tmpdir(), 'refit-upload-e2e-'));
  const stateDir = join(dir, 'state');
  let pg: { url: string; drop: () => Promise<void> } | null = null;
  const cleanups: (() => Promise<unknown>)[] = [() => rm(dir, { recursive: true, force: true })];
  try {
    if (options.backend === 'postgres') {
      pg = await createPostgresDatabase();
      const drop = pg.drop;
      cleanups.unshift(() => drop());
    }
    const cpi = await createTestCpi(join(dir, 'cpi'), options.cpi ?? {});
    const configFile = join(dir, 'director.yml');
    await writeFile(
      configFile,
      stringify({
        cpi: {
          executable: cpi.command,
          args: [...cpi.args],
          timeout_seconds: options.cpiTimeoutSeconds ?? 20,
        },
        workers: 2,
        ...(pg ? { db: { url: pg.url } } : {}),
      }),
    );
    const port = await freePort();
    const nodeFlags = options.nodeFlags ?? [];
    let director = await startDirector({ stateDir, configFile, port, nodeFlags });
    cleanups.unshift(() => director.stop());
    const db = openDb({ url: pg?.url ?? null, stateDir });
    cleanups.unshift(() => db.close());
    const listAll = async (root: string): Promise<string[]> => {
      const names = await readdir(root, { recursive: true }).catch(() => [] as string[]);
      return names.map(String).sort();
    };
    return {
      dir,
      stateDir,
      cpi,
      db,
      get director() {
        return director;
      },
      set director(next) {
        director = next;
      },
      async scratchLeftovers() {
        const tmp = join(stateDir, 'tmp');
        return [
          ...(await listAll(join(tmp, 'stemcell-uploads'))).map((n) => `stemcell-uploads/${n}`),
          ...(await listAll(join(tmp, 'rootfs-uploads'))).map((n) => `rootfs-uploads/${n}`),
        ];
      },
      async blobFiles() {
        const root = join(stateDir, 'blobstore');
        const entries = await readdir(root, { recursive: true, withFileTypes: true }).catch(() => []);
        return entries
          .filter((e) => e.isFile())
          .map((e) => join(e.parentPath, e.name).slice(root.length + 1))
          .sort();
      },
      async restart() {
        await director.kill();
        director = await startDirector({ stateDir, configFile, port, nodeFlags });
      },
      async cleanup() {
        for (const cleanup of cleanups) await cleanup().catch(() => undefined);
      },
    };
  } catch (error) {
    for (const cleanup of cleanups) await cleanup().catch(() => undefined);
    throw error;
  }
}
