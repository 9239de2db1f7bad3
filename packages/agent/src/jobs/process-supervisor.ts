import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import type { AgentProcessState } from '@refit/protocol';
import { AgentError, AgentErrorCode } from '../errors.ts';
import type { Log } from '../log.ts';
import { parseMonitFile, startOrder, type MonitProcess, type MonitProgram } from './monit-file.ts';
import { isAlive, readPidfile } from './pid.ts';

export interface SupervisedJob {
  readonly job: string;
  readonly monitFile: string;
}

export interface ProcessStatus {
  readonly name: string;
  readonly job: string;
  readonly state: AgentProcessState;
  readonly pid: number | null;
  readonly monitored: boolean;
  readonly restarts: number;
}

interface Tracked {
  job: string;
  spec: MonitProcess;
  monitored: boolean;
  state: AgentProcessState;
  pid: number | null;
  restarts: number;
  failures: number;
  starting: Promise<void> | null;
}

/** What monit would alert about, in its words (event and action name BOSH's alert title). */
export interface SupervisionEvent {
  readonly service: string;
  readonly event: string;
  readonly action: string;
  readonly description: string;
}

export interface SupervisorOptions {
  readonly log: Log;
  /** How often crashed processes are looked for (monit's cycle). */
  readonly cycleMs: number;
  /** How often a pidfile is polled while a process starts or stops. */
  readonly pollMs?: number;
}

const PROGRAM_ENV = { PATH: '/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin', LANG: 'C.UTF-8' };

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms).unref());

/**
 * Monit's role: starts each job's processes in dependency order with their start programs,
 * follows them by pidfile, restarts one that died, stops them in reverse order.
 */
export class ProcessSupervisor {
  readonly #options: SupervisorOptions;
  #order: Tracked[] = [];
  #timer: NodeJS.Timeout | null = null;
  #cycleRunning = false;
  readonly #listeners: ((event: SupervisionEvent) => void)[] = [];

  constructor(options: SupervisorOptions) {
    this.#options = options;
  }

  /** Parses every job's monit file and replaces the supervised set (nothing is started). */
  async load(jobs: readonly SupervisedJob[]): Promise<void> {
    const specs: { job: string; spec: MonitProcess }[] = [];
    for (const { job, monitFile } of jobs) {
      let text: string;
      try {
        text = await readFile(monitFile, 'utf8');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw error;
      }
      const parsed = parseMonitFile(text, monitFile);
      for (const note of parsed.ignored) this.#options.log.info(`monit: ${note}`);
      for (const spec of parsed.processes) {
        const clash = specs.find((s) => s.spec.name === spec.name);
        if (clash) {
          throw new AgentError(
            AgentErrorCode.MonitSyntax,
            `${spec.file}:${spec.line}: service '${spec.name}' is already defined in ${clash.spec.file}:${clash.spec.line}`,
          );
        }
        specs.push({ job, spec });
      }
    }
    const ordered = startOrder(specs.map((s) => s.spec));
    const previous = new Map(this.#order.map((t) => [t.spec.name, t]));
    this.#order = ordered.map((spec) => {
      const job = specs.find((s) => s.spec === spec)?.job ?? '';
      const old = previous.get(spec.name);
      if (old) {
        // Updated in place: a start in flight holds this very object.
        old.job = job;
        old.spec = spec;
        return old;
      }
      return {
        job,
        spec,
        monitored: false,
        state: 'stopped',
        pid: null,
        restarts: 0,
        failures: 0,
        starting: null,
      };
    });
  }

  get processCount(): number {
    return this.#order.length;
  }

  /** Turns monitoring on for every process and starts them in dependency order, in the background. */
  startAll(): Promise<void> {
    this.#ensureTimer();
    for (const t of this.#order) t.monitored = true;
    const sequence = (async () => {
      for (const t of this.#order) {
        if (t.starting) {
          await t.starting;
          continue;
        }
        if (await this.#liveness(t)) continue;
        await this.#start(t);
      }
    })();
    sequence.catch((error: unknown) => this.#options.log.error(`starting processes: ${String(error)}`));
    return sequence;
  }

  /** Stops watching without stopping anything (drain does this first). */
  unmonitorAll(): void {
    for (const t of this.#order) t.monitored = false;
  }

  /** Stops every process in reverse dependency order; waits for each pid to go away. */
  async stopAll(signal: AbortSignal): Promise<void> {
    this.unmonitorAll();
    const failures: string[] = [];
    for (const t of [...this.#order].reverse()) {
      signal.throwIfAborted();
      if (t.starting) await t.starting.catch(() => {});
      try {
        await this.#stop(t, signal);
      } catch (error) {
        failures.push(`${t.spec.name}: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    if (failures.length > 0) {
      throw new AgentError(AgentErrorCode.Supervision, `stopping processes failed: ${failures.join('; ')}`);
    }
  }

  async status(): Promise<ProcessStatus[]> {
    const out: ProcessStatus[] = [];
    for (const t of this.#order) {
      if (t.starting === null) await this.#liveness(t);
      out.push({
        name: t.spec.name,
        job: t.job,
        state: t.state,
        pid: t.pid,
        monitored: t.monitored,
        restarts: t.restarts,
      });
    }
    return out;
  }

  /** Calls `listener` on monit-like events (a process died, a start failed), for alerts. */
  onEvent(listener: (event: SupervisionEvent) => void): void {
    this.#listeners.push(listener);
  }

  #emit(event: SupervisionEvent): void {
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch (error) {
        this.#options.log.error(`supervision event listener: ${String(error)}`);
      }
    }
  }

  close(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }

  #ensureTimer(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => void this.#cycle(), this.#options.cycleMs);
    this.#timer.unref();
  }

  /** One monit cycle: a monitored process whose pid is gone is started again. */
  async #cycle(): Promise<void> {
    if (this.#cycleRunning) return;
    this.#cycleRunning = true;
    try {
      for (const t of this.#order) {
        if (!t.monitored || t.starting) continue;
        const [was, pid] = [t.state, t.pid];
        if (await this.#liveness(t)) continue;
        if (was === 'running') {
          this.#options.log.warn(`process ${t.spec.name} died (pid ${pid}); restarting`);
          this.#emit({
            service: t.spec.name,
            event: 'Does not exist',
            action: 'restart',
            description: 'process is not running',
          });
        }
        t.restarts++;
        await this.#start(t);
      }
    } catch (error) {
      this.#options.log.error(`supervision cycle: ${String(error)}`);
    } finally {
      this.#cycleRunning = false;
    }
  }

  /** Reads the pidfile and updates the state of a process that is not starting. */
  async #liveness(t: Tracked): Promise<boolean> {
    const pid = await readPidfile(t.spec.pidfile);
    const alive = pid !== null && (await isAlive(pid));
    t.pid = alive ? pid : null;
    if (alive) {
      t.state = 'running';
      t.failures = 0;
    } else if (t.state === 'running' || t.state === 'starting') {
      t.state = t.monitored ? 'failing' : 'stopped';
    } else if (!t.monitored) {
      t.state = 'stopped';
    }
    return alive;
  }

  #start(t: Tracked): Promise<void> {
    // One start program at a time per process: a second one would orphan the first's daemon.
    if (t.starting) return t.starting;
    const run = (async () => {
      t.state = 'starting';
      const deadline = Date.now() + t.spec.start.timeoutSeconds * 1000;
      void this.#runProgram(t.spec, t.spec.start, 'start');
      const pollMs = this.#options.pollMs ?? 100;
      for (;;) {
        const pid = await readPidfile(t.spec.pidfile);
        if (pid !== null && (await isAlive(pid))) {
          t.pid = pid;
          t.state = 'running';
          t.failures = 0;
          return;
        }
        if (Date.now() > deadline) break;
        await sleep(pollMs);
      }
      t.failures++;
      t.state = 'failing';
      if (t.failures === 1) {
        this.#emit({
          service: t.spec.name,
          event: 'Execution failed',
          action: 'start',
          description: `no live pid in ${t.spec.pidfile} ${t.spec.start.timeoutSeconds} s after start`,
        });
      }
      this.#options.log.warn(
        `process ${t.spec.name}: no live pid in ${t.spec.pidfile} ${t.spec.start.timeoutSeconds}s after start (attempt ${t.failures})`,
      );
    })();
    t.starting = run.finally(() => {
      t.starting = null;
    });
    return t.starting;
  }

  async #stop(t: Tracked, signal: AbortSignal): Promise<void> {
    const pid = (await readPidfile(t.spec.pidfile)) ?? t.pid;
    if (t.spec.stop) {
      const exit = this.#runProgram(t.spec, t.spec.stop, 'stop');
      await Promise.race([exit, sleep(t.spec.stop.timeoutSeconds * 1000)]);
    } else if (pid !== null && (await isAlive(pid))) {
      process.kill(pid, 'SIGTERM');
    }
    const timeoutSeconds = t.spec.stop?.timeoutSeconds ?? 30;
    const deadline = Date.now() + timeoutSeconds * 1000;
    while (pid !== null && (await isAlive(pid))) {
      signal.throwIfAborted();
      if (Date.now() > deadline) {
        // Monit would report the stop as failed and leave it; a stopped job must not keep
        // running, so the agent kills what the stop program left behind.
        this.#options.log.warn(`process ${t.spec.name} (pid ${pid}) outlived its stop program; SIGKILL`);
        process.kill(pid, 'SIGKILL');
        await sleep(100);
        break;
      }
      await sleep(this.#options.pollMs ?? 100);
    }
    t.pid = null;
    t.state = 'stopped';
  }

  /** Runs a start or stop program without a shell, in its own process group, output discarded. */
  #runProgram(spec: MonitProcess, program: MonitProgram, what: string): Promise<void> {
    const [command, ...args] = program.argv;
    const done = new Promise<void>((resolve) => {
      const child = spawn(command ?? '', args, {
        cwd: '/',
        detached: true,
        stdio: 'ignore',
        env: { ...PROGRAM_ENV, MONIT_SERVICE: spec.name },
      });
      child.on('error', (error) => {
        this.#options.log.error(`${what} program of ${spec.name} (${spec.file}): ${error.message}`);
        resolve();
      });
      child.on('exit', (code, sig) => {
        if (code !== 0) this.#options.log.warn(`${what} program of ${spec.name} exited ${code ?? sig}`);
        resolve();
      });
      child.unref();
    });
    return done;
  }
}
