import { access, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import type { AgentAlert, Heartbeat } from '@refit/protocol';
import { sleepSeconds, type ActionContext } from './actions/action.ts';
import { actions } from './actions/index.ts';
import { jobState } from './actions/job-state.ts';
import { settingsBlobstore } from './blobstore/agent-blobstore.ts';
import { NatsBus } from './bus/nats-bus.ts';
import { Dispatcher, TaskBoard } from './dispatcher.ts';
import { errorMessage } from './errors.ts';
import type { Mounter } from './disks/mounter.ts';
import { PersistentDisks } from './disks/persistent-disks.ts';
import { JobInstaller } from './jobs/installer.ts';
import { ProcessSupervisor, type SupervisionEvent } from './jobs/process-supervisor.ts';
import type { Log } from './log.ts';
import { agentPaths } from './paths.ts';
import { readSettingsFile, SettingsStore } from './settings.ts';
import { SpecStore, specJobs } from './spec-store.ts';
import { VitalsSampler } from './vitals.ts';
import { rebootRefused } from './actions/reboot.ts';
import { powerOffRefused } from './actions/shutdown.ts';
import { bootedIdentity } from './rootfs/booted-identity.ts';
import { watchForCommit } from './rootfs/commit-watch.ts';
import { migrateAgentState } from './rootfs/state-migration.ts';

export interface AgentOptions {
  readonly settingsFile: string;
  readonly baseDir: string;
  readonly log: Log;
  readonly mounter: Mounter;
  readonly heartbeatMs: number;
  readonly supervisionCycleMs: number;
  readonly scriptTimeoutMs: number;
  readonly sleep?: (seconds: number, signal: AbortSignal) => Promise<void>;
  /** reboot(2) of the machine; only main.ts passes the real one. */
  readonly rebootMachine?: () => Promise<void>;
  /** Power-off of the machine (`shutdown`); only main.ts passes the real one. */
  readonly powerOffMachine?: () => Promise<void>;
  readonly installTimeoutMs?: number;
}

/** Wires the agent's parts from its settings. main.ts and tests build it the same way. */
export async function buildContext(options: AgentOptions): Promise<ActionContext> {
  const paths = agentPaths(options.baseDir);
  for (const dir of [paths.boshDir, paths.dataDir, paths.sysLog, paths.jobs, paths.packages]) {
    await mkdir(dir, { recursive: true });
  }
  const moved = await migrateAgentState(paths);
  if (moved.length > 0) options.log.info(`moved ${moved.join(', ')} to ${paths.stateDir}`);
  const settings = await SettingsStore.load(paths, await readSettingsFile(options.settingsFile));
  const blobstore = settingsBlobstore(() => settings.blobstore());
  const disks = new PersistentDisks(paths, settings, options.mounter);
  return {
    paths,
    settings,
    specs: new SpecStore(paths),
    blobstore,
    installer: new JobInstaller(paths, blobstore),
    supervisor: new ProcessSupervisor({ log: options.log, cycleMs: options.supervisionCycleMs }),
    disks,
    vitals: new VitalsSampler(paths, async () => (await disks.list()).length > 0),
    tasks: new TaskBoard(),
    log: options.log,
    sleep: options.sleep ?? sleepSeconds,
    scriptTimeoutMs: options.scriptTimeoutMs,
    rebootMachine: options.rebootMachine ?? rebootRefused,
    powerOffMachine: options.powerOffMachine ?? powerOffRefused,
    ...(options.installTimeoutMs === undefined ? {} : { installTimeoutMs: options.installTimeoutMs }),
  };
}

export async function heartbeat(ctx: ActionContext): Promise<Heartbeat> {
  const spec = await ctx.specs.get();
  const statuses = await ctx.supervisor.status();
  const stemcell = await bootedIdentity(ctx.paths);
  return {
    deployment: spec.deployment ?? null,
    job: spec.job?.name ?? null,
    index: spec.index ?? null,
    job_state: await jobState(ctx, statuses),
    node_id: spec.id ?? null,
    number_of_processes: statuses.length,
    vitals: await ctx.vitals.sample(),
    ...(stemcell
      ? {
          stemcell: {
            version: stemcell.version,
            ...(stemcell.name ? { name: stemcell.name } : {}),
            ...(stemcell.root_digest ? { root_digest: stemcell.root_digest } : {}),
          },
        }
      : {}),
  };
}

/**
 * After a boot or an agent restart, monit's role: processes of the applied jobs come back
 * unless the instance was stopped. Lifecycle scripts are not re-run (reference §3.5).
 */
export async function resumeSupervision(ctx: ActionContext): Promise<void> {
  const stopped = await access(ctx.paths.stoppedMarker).then(
    () => true,
    () => false,
  );
  const spec = await ctx.specs.get();
  const jobs = specJobs(spec);
  if (stopped || jobs.length === 0 || (spec.configuration_hash ?? '') === '') return;
  await ctx.supervisor.load(jobs.map((job) => ({ job, monitFile: join(ctx.paths.jobs, job, 'monit') })));
  void ctx.supervisor.startAll();
}

/** Severity of the events the supervisor raises, as bosh-agent maps monit's (1 alert, 2 critical). */
const SEVERITY: Record<string, number> = { 'does not exist': 1, 'execution failed': 1, timeout: 2 };

/** A supervision event as BOSH's alert: `<service> (<ips>) - <event> - <action>`. */
export function processAlert(ctx: ActionContext, event: SupervisionEvent, now = new Date()): AgentAlert {
  const ips = Object.values(ctx.settings.settings.networks)
    .map((n) => n.ip)
    .filter((ip): ip is string => typeof ip === 'string' && ip !== '')
    .sort();
  const service = ips.length > 0 ? `${event.service} (${ips.join(', ')})` : event.service;
  return {
    id: randomUUID(),
    severity: SEVERITY[event.event.toLowerCase()] ?? 2,
    title: `${service} - ${event.event} - ${event.action}`,
    summary: event.description,
    created_at: Math.floor(now.getTime() / 1000),
  };
}

export interface RunningAgent {
  readonly ctx: ActionContext;
  readonly bus: NatsBus;
  close(): Promise<void>;
}

export async function startAgent(options: AgentOptions): Promise<RunningAgent> {
  const ctx = await buildContext(options);
  const mbus = ctx.settings.mbus();
  const bus = new NatsBus({
    mbus,
    agentId: ctx.settings.agentId,
    dispatcher: new Dispatcher(actions, ctx),
    heartbeat: () => heartbeat(ctx),
    heartbeatMs: options.heartbeatMs,
    log: options.log,
  });
  ctx.supervisor.onEvent((event) => bus.alert(processAlert(ctx, event)));
  // The persistent disk first: jobs that come back expect their data under /var/vcap/store.
  try {
    const cid = await ctx.disks.mountAtBoot();
    if (cid !== null) options.log.info(`mounted persistent disk ${cid} at boot`);
  } catch (error) {
    options.log.error(`mounting the persistent disk at boot: ${errorMessage(error)}`);
  }
  try {
    await resumeSupervision(ctx);
  } catch (error) {
    // A root swap resets the root: job links come back with the director's next apply.
    options.log.error(`resuming jobs at boot: ${errorMessage(error)}`);
  }
  await bus.start();
  const stopCommitWatch = watchForCommit(ctx);
  return {
    ctx,
    bus,
    async close() {
      stopCommitWatch();
      ctx.supervisor.close();
      await bus.close();
    },
  };
}
