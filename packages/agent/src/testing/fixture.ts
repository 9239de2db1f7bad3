import { createHash } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { ApplySpec } from '@refit/protocol';
import type { ActionContext, AnyAction } from '../actions/action.ts';
import { actions } from '../actions/index.ts';
import { buildContext } from '../agent.ts';
import { createTgz } from '../archive/tgz.ts';
import { Dispatcher, type Outcome } from '../dispatcher.ts';
import { systemMounter, type Mounter } from '../disks/mounter.ts';
import { silentLog } from '../log.ts';

/** A file tree for a test: path → content (string) or { content, mode }. */
export type Tree = Record<string, string | { content: string; mode: number }>;

export async function writeTree(dir: string, tree: Tree): Promise<void> {
  for (const [path, entry] of Object.entries(tree)) {
    const file = join(dir, path);
    await mkdir(dirname(file), { recursive: true });
    const { content, mode } = typeof entry === 'string' ? { content: entry, mode: 0o644 } : entry;
    await writeFile(file, content);
    await chmod(file, mode);
  }
}

export const exe = (content: string): { content: string; mode: number } => ({ content, mode: 0o755 });

export interface AgentFixture {
  readonly dir: string;
  readonly base: string;
  readonly blobs: string;
  readonly ctx: ActionContext;
  readonly dispatcher: Dispatcher;
  /** Puts a tgz of `tree` in the local blobstore; answers its id and sha1. */
  blob(id: string, tree: Tree): Promise<{ blobstore_id: string; sha1: string; sha256: string }>;
  /** Runs an action directly with parsed arguments. */
  run<R>(action: AnyAction, args: readonly unknown[], signal?: AbortSignal): Promise<R>;
  /** Dispatches like the bus does; async actions are polled with get_task until done. */
  call(method: string, args?: readonly unknown[], timeoutMs?: number): Promise<Outcome>;
  close(): Promise<void>;
}

export async function agentFixture(
  options: {
    mounter?: Mounter;
    settings?: Record<string, unknown>;
    scriptTimeoutMs?: number;
    sleep?: (s: number, signal: AbortSignal) => Promise<void>;
  } = {},
): Promise<AgentFixture> {
  const dir = await mkdtemp(join(tmpdir(), 'refit-agent-'));
  const base = join(dir, 'root');
  const blobs = join(dir, 'blobs');
  await mkdir(blobs, { recursive: true });
  const settingsFile = join(dir, 'settings.json');
  await writeFile(
    settingsFile,
    JSON.stringify({
      agent_id: 'agent-1',
      vm: { name: 'vm-1' },
      mbus: 'nats://u:p@127.0.0.1:4222',
      networks: {},
      disks: { persistent: {} },
      blobstore: { provider: 'local', options: { blobstore_path: blobs } },
      ...options.settings,
    }),
  );
  const ctx = await buildContext({
    settingsFile,
    baseDir: base,
    log: silentLog,
    mounter: options.mounter ?? systemMounter,
    heartbeatMs: 30_000,
    supervisionCycleMs: 100,
    scriptTimeoutMs: options.scriptTimeoutMs ?? 60_000,
    sleep: options.sleep ?? (() => Promise.resolve()),
  });
  const dispatcher = new Dispatcher(actions, ctx);
  const fixture: AgentFixture = {
    dir,
    base,
    blobs,
    ctx,
    dispatcher,
    async blob(id, tree) {
      const src = join(dir, `src-${id}`);
      await writeTree(src, tree);
      const file = join(blobs, id);
      await createTgz(src, file);
      await rm(src, { recursive: true, force: true });
      const bytes = await readFile(file);
      return {
        blobstore_id: id,
        sha1: createHash('sha1').update(bytes).digest('hex'),
        sha256: createHash('sha256').update(bytes).digest('hex'),
      };
    },
    async run<R>(action: AnyAction, args: readonly unknown[], signal?: AbortSignal): Promise<R> {
      return (await action.run(ctx, action.args.parse(args), signal ?? AbortSignal.timeout(60_000))) as R;
    },
    async call(method, args = [], timeoutMs = 30_000) {
      const first = await dispatcher.dispatch(method, args);
      if (!('value' in first)) return first;
      const v = first.value as { agent_task_id?: string; state?: string } | null;
      if (v === null || typeof v !== 'object' || v.state !== 'running' || v.agent_task_id === undefined)
        return first;
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const polled = await dispatcher.dispatch('get_task', [v.agent_task_id]);
        const pv = 'value' in polled ? (polled.value as { state?: string } | null) : null;
        if (!('value' in polled) || pv === null || typeof pv !== 'object' || pv.state !== 'running')
          return polled;
        if (Date.now() > deadline) throw new Error(`${method} still running after ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    async close() {
      await ctx.supervisor.stopAll(AbortSignal.timeout(20_000)).catch(() => {});
      ctx.supervisor.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
  return fixture;
}

/** A daemonising process for a monit file: a sleep loop that writes its pidfile. */
export function daemonCtl(pidfile: string): string {
  return `#!/bin/sh
case "$1" in
  start)
    mkdir -p "$(dirname ${pidfile})"
    sh -c 'echo $$ > ${pidfile}; exec sleep 1000' >/dev/null 2>&1 &
    ;;
  stop)
    [ -f ${pidfile} ] && kill $(cat ${pidfile}) 2>/dev/null
    rm -f ${pidfile}
    ;;
esac
exit 0
`;
}

/** An apply spec for jobs in a rendered templates archive plus packages. */
export function applySpec(options: {
  jobs: string[];
  archive: { blobstore_id: string; sha1: string };
  packages?: Record<string, { blobstore_id: string; sha1: string; version?: string }>;
  hash?: string;
  persistentDisk?: number;
}): ApplySpec {
  return {
    deployment: 'd',
    job: { name: 'web', templates: options.jobs.map((name) => ({ name, version: 'v1' })) },
    index: 0,
    id: 'instance-1',
    networks: {},
    packages: Object.fromEntries(
      Object.entries(options.packages ?? {}).map(([name, p]) => [
        name,
        { name, version: p.version ?? '1.0', blobstore_id: p.blobstore_id, sha1: p.sha1 },
      ]),
    ),
    configuration_hash: options.hash ?? 'hash-1',
    persistent_disk: options.persistentDisk ?? 0,
    rendered_templates_archive: options.archive,
  };
}
