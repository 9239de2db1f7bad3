// What the end-to-end suites with real refit-cpi-local VMs share: a work directory, refit-director
// on its defaults (embedded nats-server, generated cpi-local config), stemcells built with
// refit-stemcell, uploads and deploys through the API, what the host holds (VMs, disks, the data
// on each persistent disk), and a cleanup that leaves no VM, mount or directory behind.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parse, stringify } from 'yaml';
import {
  startDirector,
  type RunningDirector,
  type TaskJson,
} from '@refit/director/stemcells/director-process.test-support.ts';
import { callCpi } from '../vm-harness/cpi-process.ts';

const run = promisify(execFile);
export const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const stemcellBin = join(repo, 'packages/stemcell/bin/refit-stemcell');
const cpiBin = join(repo, 'packages/cpi-local/bin/refit-cpi-local');
const raw = { 'content-type': 'application/x-compressed' };
const yaml = { 'content-type': 'text/yaml' };

export const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');
export const skipUnlessRoot = process.getuid?.() !== 0 ? 'needs root (namespace VMs)' : false;

/** A stemcell built by refit-stemcell: the IaaS tarball and the generic stemcell (rootfs). */
export interface BuiltStemcell {
  readonly stemcell: string;
  readonly rootfs: string;
}

/** `refit-stemcell build --base minimal` into `<work>/<dir>`. */
export async function buildStemcell(
  work: string,
  version: string,
  options: { readonly name?: string; readonly dir?: string; readonly extra?: readonly string[] } = {},
): Promise<BuiltStemcell> {
  const out = join(work, options.dir ?? `sc-${version}`);
  const { stdout } = await run(
    stemcellBin,
    [
      ...['build', '--name', options.name ?? 'refit-e2e', '--version', version],
      ...['--os', 'refit-minimal', '--out', out, '--base', 'minimal'],
      ...(options.extra ?? []),
    ],
    { maxBuffer: 1 << 22 },
  );
  const built = JSON.parse(stdout) as { rootfs: { path: string } };
  return { stemcell: join(out, 'stemcell.tgz'), rootfs: built.rootfs.path };
}

/** The VMs refit-cpi-local holds on the host for the director in `stateDir`, sorted. */
export async function hostVmsOf(stateDir: string): Promise<string[]> {
  return (await readdir(join(stateDir, 'cpi-local', 'state', 'vms')).catch(() => [])).sort();
}

/** refit-cpi-local as the director in `stateDir` runs it (its generated config). */
export const cpiOf = (stateDir: string) => ({
  command: cpiBin,
  args: ['--config', join(stateDir, 'cpi-local', 'cpi.yml')],
});

/** Deletes every VM still on the host through the CPI (so no mount stays), then nothing else. */
export async function deleteHostVms(stateDir: string): Promise<void> {
  for (const vm of await hostVmsOf(stateDir)) {
    await callCpi(cpiOf(stateDir), 'delete_vm', [vm]).catch(() => undefined);
  }
}

/** The host processes of a refit-cpi-local VM (its `status.json`): supervisor, unshare, init. */
export interface VmProcesses {
  readonly supervisor: { readonly pid: number };
  readonly unshare: { readonly pid: number } | null;
  readonly init: { readonly pid: number } | null;
}

export async function vmProcesses(stateDir: string, cid: string): Promise<VmProcesses> {
  const file = join(stateDir, 'cpi-local', 'state', 'vms', cid, 'status.json');
  return JSON.parse(await readFile(file, 'utf8')) as VmProcesses;
}

/** A VM lost at the IaaS: its supervisor and every process SIGKILLed, its records left behind. */
export async function loseVm(stateDir: string, cid: string): Promise<void> {
  const status = await vmProcesses(stateDir, cid);
  for (const p of [status.supervisor, status.init, status.unshare]) {
    if (p) process.kill(p.pid, 'SIGKILL');
  }
}

/** One line of a task's event output. */
export interface EventLine {
  readonly stage?: string;
  readonly state?: string;
  readonly task?: string;
  readonly error?: { message?: string };
  readonly data?: { status?: string };
}

export const eventLines = (text: string): EventLine[] =>
  text
    .trim()
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as EventLine);

/** The tasks of `stage` in the order they started. */
export const startedTasks = (events: string, stage = 'Updating instance'): string[] =>
  eventLines(events)
    .filter((e) => e.stage === stage && e.state === 'started')
    .map((e) => e.task ?? '');

/** The stages of a task's events, each once, in order. */
export const stagesOf = (events: string): string[] => [
  ...new Set(
    eventLines(events)
      .map((e) => e.stage)
      .filter((s): s is string => s !== undefined),
  ),
];

/** A row of `GET /deployments/<d>/vms?format=full`. */
export interface VmLine {
  readonly id: string;
  readonly vm_cid: string;
  readonly agent_id: string;
  readonly job_state: string;
  readonly ips: string[];
  readonly stemcell: { name?: string; version: string } | null;
  readonly booted_stemcell?: { version: string; root_digest?: string; boot_id?: string };
}

export interface TaskRun {
  readonly id: number;
  readonly task: TaskJson;
  readonly events: string;
  readonly cpi: string;
  readonly debug: string;
}

/** A director with its own state under a temporary work directory, and the VMs it makes. */
export class VmLab {
  readonly work: string;
  readonly director: RunningDirector;
  readonly stateDir: string;
  /** refit-cpi-local's state: `vms/<cid>`, `disks/<cid>`. */
  readonly cpiState: string;

  private constructor(work: string, director: RunningDirector) {
    this.work = work;
    this.director = director;
    this.stateDir = director.stateDir;
    this.cpiState = join(director.stateDir, 'cpi-local', 'state');
  }

  /**
   * A work directory `refit-<prefix>-*` and a director in it. Agent tasks are polled every 0.1 s
   * (BOSH: 1 s; same protocol, shorter suites) unless `directorConfig` says otherwise.
   */
  static async start(
    prefix: string,
    options: { readonly directorConfig?: Record<string, unknown>; readonly work?: string } = {},
  ): Promise<VmLab> {
    process.env.REFIT_DIRECTOR_TEST_TASKS = '1';
    const work = options.work ?? (await mkdtemp(join(tmpdir(), `refit-${prefix}-`)));
    const configFile = join(work, 'director.yml');
    const config = { agent: { task_poll_interval_seconds: 0.1 }, ...options.directorConfig };
    await writeFile(configFile, stringify(config));
    const director = await startDirector({ stateDir: join(work, 'director'), configFile });
    return new VmLab(work, director);
  }

  /** Calls refit-cpi-local directly, with the director's config. */
  cpi(method: string, args: unknown[]): Promise<unknown> {
    return callCpi(cpiOf(this.stateDir), method, args);
  }

  /** Merges `extra` into the generated cpi-local config (read again by every CPI call). */
  async patchCpiConfig(extra: Record<string, unknown>): Promise<void> {
    const file = join(this.stateDir, 'cpi-local', 'cpi.yml');
    const doc = (parse(await readFile(file, 'utf8')) ?? {}) as Record<string, unknown>;
    await writeFile(file, stringify({ ...doc, ...extra }), { mode: 0o600 });
  }

  /** POSTs a tarball (`/stemcells`, `/rootfs`, `/releases`) and asserts the task is done. */
  async upload(path: string, body: string | Buffer): Promise<void> {
    const data = typeof body === 'string' ? await readFile(body) : body;
    const reply = await this.director.request('POST', path, { body: data, headers: raw, timeoutMs: 120_000 });
    const id = this.director.taskOf(reply);
    assert.equal(
      (await this.director.waitTask(id, 120_000)).state,
      'done',
      await this.director.output(id, 'event'),
    );
  }

  async updateCloudConfig(cloudConfig: unknown): Promise<void> {
    const reply = await this.director.request('POST', '/cloud_configs?name=default', {
      body: stringify(cloudConfig),
      headers: yaml,
    });
    assert.equal(reply.status, 201, reply.text);
  }

  /** `POST /deployments<query>` and its task, with the task's event, CPI and debug output. */
  async deploy(manifest: string, query = '', timeoutMs = 300_000): Promise<TaskRun> {
    const reply = await this.director.request('POST', `/deployments${query}`, {
      body: manifest,
      headers: yaml,
    });
    return this.#taskRun(this.director.taskOf(reply), timeoutMs);
  }

  /** A PUT that starts a task (`/deployments/<d>/jobs/...?state=...`), and that task. */
  async put(path: string, timeoutMs = 240_000): Promise<TaskRun> {
    const reply = await this.director.request('PUT', path, { body: '', headers: yaml });
    return this.#taskRun(this.director.taskOf(reply), timeoutMs);
  }

  async #taskRun(id: number, timeoutMs: number): Promise<TaskRun> {
    const task = await this.director.waitTask(id, timeoutMs);
    const [events, cpi, debug] = await Promise.all([
      this.director.output(id, 'event'),
      this.director.output(id, 'cpi'),
      this.director.output(id, 'debug'),
    ]);
    return { id, task, events, cpi, debug };
  }

  /** `GET /deployments/<d>/vms?format=full`. */
  async vms(deployment: string): Promise<VmLine[]> {
    const id = this.director.taskOf(
      await this.director.request('GET', `/deployments/${deployment}/vms?format=full`),
    );
    assert.equal((await this.director.waitTask(id, 60_000)).state, 'done');
    return (await this.director.output(id, 'result'))
      .trim()
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as VmLine);
  }

  /** The deployment's VM CIDs, sorted. */
  async cids(deployment: string): Promise<string[]> {
    return (await this.vms(deployment)).map((v) => v.vm_cid).sort();
  }

  /** The VMs refit-cpi-local holds on the host, sorted. */
  hostVms(): Promise<string[]> {
    return hostVmsOf(this.stateDir);
  }

  async hostDisks(): Promise<string[]> {
    return (await readdir(join(this.cpiState, 'disks')).catch(() => [])).sort();
  }

  /** Disk CID → sha256 of `<disk>/<file>` (a job's data on its persistent disk), where present. */
  async diskData(file = 'web/data'): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    for (const disk of await this.hostDisks()) {
      const data = await readFile(join(this.cpiState, 'disks', disk, 'data', file)).catch(() => null);
      if (data) out.set(disk, sha256(data));
    }
    return out;
  }

  /** Deletes what a failed test left (the deployments, then any VM), stops the director. */
  async stop(deployments: readonly string[]): Promise<void> {
    for (const name of deployments) {
      const left = await this.director.request('GET', `/deployments/${name}`).catch(() => null);
      if (left?.status !== 200) continue;
      const reply = await this.director
        .request('DELETE', `/deployments/${name}?force=true`)
        .catch(() => null);
      if (reply) await this.director.waitTask(this.director.taskOf(reply), 120_000).catch(() => undefined);
    }
    await this.director.stop();
    await deleteHostVms(this.stateDir);
    await rm(this.work, { recursive: true, force: true });
  }
}

/**
 * A job `name` whose monit process is a shell loop named `<marker>-<instance id>` (so tests can
 * find it on the host), with a drain script, and with `withData` a 4 KiB random file written once
 * to `/var/vcap/store/<name>/data` (the persistent data tests checksum).
 */
export function loopJob(options: {
  readonly name?: string;
  readonly marker: string;
  readonly withData?: boolean;
}) {
  const name = options.name ?? 'web';
  const store = options.withData === true ? `/var/vcap/store/${name}` : '';
  const ctl = `#!/bin/sh
RUN=/var/vcap/sys/run/${name}
case "$1" in
  start)
    mkdir -p "$RUN"${store ? ` "${store}"\n    [ -f "${store}/data" ] || head -c 4096 /dev/urandom > "${store}/data"` : ''}
    /bin/sh -c 'while :; do sleep 1; done' ${options.marker}-<%= spec.id %> </dev/null >/dev/null 2>&1 &
    echo $! > "$RUN/${name}.pid"
    ;;
  stop)
    [ -f "$RUN/${name}.pid" ] && kill "$(cat "$RUN/${name}.pid")" 2>/dev/null
    rm -f "$RUN/${name}.pid"
    ;;
esac
`;
  return {
    name,
    monit: `check process ${name}
  with pidfile /var/vcap/sys/run/${name}/${name}.pid
  start program "/var/vcap/jobs/${name}/bin/ctl start"
  stop program "/var/vcap/jobs/${name}/bin/ctl stop"
  group vcap
`,
    templates: { 'ctl.erb': ctl, 'drain.erb': '#!/bin/sh\necho 0\n' },
    destinations: { 'ctl.erb': 'bin/ctl', 'drain.erb': 'bin/drain' },
    packages: [] as string[],
    properties: {},
  };
}

/** One AZ `z1`, one `default` vm type, a manual network on `127.0.<octet>.0/24`, compilation. */
export function oneAzCloudConfig(octet: number) {
  return {
    azs: [{ name: 'z1' }],
    vm_types: [{ name: 'default' }],
    networks: [
      {
        name: 'default',
        type: 'manual',
        subnets: [{ range: `127.0.${octet}.0/24`, gateway: `127.0.${octet}.1`, az: 'z1' }],
      },
    ],
    compilation: { workers: 1, az: 'z1', vm_type: 'default', network: 'default' },
  };
}

/**
 * A deployment of one instance group `web` (job `web` of release `app`) in `z1` of
 * `oneAzCloudConfig`, each instance with a 64 MB persistent disk; canaries 1, max_in_flight 2.
 */
export function webManifest(options: {
  readonly name: string;
  readonly stemcell: string;
  readonly instances?: number;
  /** `canary_watch_time` and `update_watch_time`. */
  readonly watch?: string;
  readonly releaseVersion?: string;
  readonly update?: Record<string, unknown>;
}): string {
  const watch = options.watch ?? '1000-10000';
  return stringify({
    name: options.name,
    releases: [{ name: 'app', version: options.releaseVersion ?? 'latest' }],
    stemcells: [{ alias: 'default', os: 'refit-minimal', version: options.stemcell }],
    update: {
      canaries: 1,
      max_in_flight: 2,
      canary_watch_time: watch,
      update_watch_time: watch,
      ...options.update,
    },
    instance_groups: [
      {
        name: 'web',
        azs: ['z1'],
        instances: options.instances ?? 2,
        jobs: [{ name: 'web', release: 'app', properties: {} }],
        vm_type: 'default',
        stemcell: 'default',
        persistent_disk: 64,
        networks: [{ name: 'default' }],
      },
    ],
  });
}
