import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ResurrectionRule } from '@refit/protocol';
import type { LogLevel } from './hm-log.ts';
import type { MonitorIntervals } from './monitor.ts';
import type { ResurrectorSettings } from './resurrector.ts';

const seconds = z.number().positive();

/** The config file (YAML or JSON). Every key is optional; times are seconds (fractions allowed). */
export const HmConfigFile = z
  .object({
    director: z
      .object({
        url: z.string().url().optional(),
        ca_cert: z.string().optional(),
        user: z.string().optional(),
        password: z.string().optional(),
        request_timeout: seconds.optional(),
      })
      .strict()
      .optional(),
    nats: z
      .object({ url: z.string().optional(), user: z.string().optional(), password: z.string().optional() })
      .strict()
      .optional(),
    intervals: z
      .object({
        poll_director: seconds.optional(),
        analyze_agents: seconds.optional(),
        poll_grace_period: z.number().nonnegative().optional(),
        agent_timeout: seconds.optional(),
        rogue_agent_alert: seconds.optional(),
        max_backoff: seconds.optional(),
      })
      .strict()
      .optional(),
    resurrector: z
      .object({
        enabled: z.boolean().optional(),
        minimum_down_jobs: z.number().int().nonnegative().optional(),
        percent_threshold: z.number().min(0).max(1).optional(),
        time_threshold: seconds.optional(),
        auto_fix_stateful_nodes: z.boolean().optional(),
        rules: z.array(ResurrectionRule).optional(),
      })
      .strict()
      .optional(),
    webhook: z
      .object({
        url: z.string().url(),
        timeout: seconds.optional(),
        queue_size: z.number().int().positive().optional(),
      })
      .strict()
      .optional(),
    director_events: z.boolean().optional(),
    log_file: z.string().optional(),
    log_level: z.enum(['debug', 'info', 'warn', 'error']).optional(),
  })
  .strict();
export type HmConfigFile = z.infer<typeof HmConfigFile>;

/** The validated settings, defaults applied (BOSH's where BOSH has one). */
export interface HmConfig {
  readonly director: {
    url: string;
    caPem: string | null;
    user: string;
    password: string;
    requestTimeoutMs: number;
  };
  readonly nats: { url: string; user: string; password: string };
  readonly intervals: MonitorIntervals;
  readonly resurrector: ResurrectorSettings & { enabled: boolean };
  readonly webhook: { url: string; timeoutMs: number; queueSize: number } | null;
  readonly directorEvents: boolean;
  readonly logFile: string | null;
  readonly logLevel: LogLevel;
}

export class HmConfigError extends Error {
  readonly code = 'hm.config';
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'HmConfigError';
  }
}

export interface ConfigSources {
  readonly configFile: string | null;
  readonly directorStateDir: string | null;
  readonly directorUrl: string | null;
  readonly resurrector: boolean | null;
}

const StateCredentials = z.object({ client: z.string(), client_secret: z.string() });
const StateNats = z.object({
  port: z.number().int().nullable(),
  hm: z.object({ user: z.string(), password: z.string() }).nullable(),
});

async function readJson<T>(path: string, schema: z.ZodType<T>): Promise<T> {
  try {
    return schema.parse(JSON.parse(await readFile(path, 'utf8')));
  } catch (error) {
    throw new HmConfigError(
      `${path}: cannot read it (${error instanceof Error ? error.message : String(error)})`,
      { cause: error },
    );
  }
}

/** Reads the config file and/or the director's state dir into one `HmConfig`. */
export async function loadHmConfig(sources: ConfigSources): Promise<HmConfig> {
  let file: HmConfigFile = {};
  let base = process.cwd();
  if (sources.configFile !== null) {
    const path = resolve(sources.configFile);
    base = dirname(path);
    let raw: unknown;
    try {
      raw = parseYaml(await readFile(path, 'utf8')) ?? {};
    } catch (error) {
      throw new HmConfigError(`${path}: ${error instanceof Error ? error.message : String(error)}`, {
        cause: error,
      });
    }
    const parsed = HmConfigFile.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new HmConfigError(`${path}: ${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}`);
    }
    file = parsed.data;
  }

  let defaults: {
    url: string;
    caPem: string;
    user: string;
    password: string;
    nats: HmConfig['nats'] | null;
  } | null = null;
  if (sources.directorStateDir !== null) {
    const dir = resolve(sources.directorStateDir);
    const credentials = await readJson(join(dir, 'credentials.json'), StateCredentials);
    const nats = await readJson(join(dir, 'nats', 'credentials.json'), StateNats);
    const caPem = await readFile(join(dir, 'ca.pem'), 'utf8').catch((error: unknown) => {
      throw new HmConfigError(`${join(dir, 'ca.pem')}: cannot read it`, { cause: error });
    });
    defaults = {
      url: 'https://127.0.0.1:25555',
      caPem,
      user: credentials.client,
      password: credentials.client_secret,
      nats:
        nats.port !== null && nats.hm !== null
          ? { url: `nats://127.0.0.1:${nats.port}`, user: nats.hm.user, password: nats.hm.password }
          : null,
    };
  }

  const need = <T>(value: T | undefined | null, what: string): T => {
    if (value === undefined || value === null) {
      throw new HmConfigError(`${what} is not set: give it in --config or use --director-state-dir`);
    }
    return value;
  };
  const caFile = file.director?.ca_cert;
  const caPem =
    caFile !== undefined ? await readFile(resolve(base, caFile), 'utf8') : (defaults?.caPem ?? null);
  const s = (value: number | undefined, fallback: number) => Math.round((value ?? fallback) * 1000);
  const r = file.resurrector ?? {};
  return {
    director: {
      url: sources.directorUrl ?? file.director?.url ?? need(defaults?.url, 'director.url'),
      caPem,
      user: file.director?.user ?? need(defaults?.user, 'director.user'),
      password: file.director?.password ?? need(defaults?.password, 'director.password'),
      requestTimeoutMs: s(file.director?.request_timeout, 10),
    },
    nats: {
      url: file.nats?.url ?? need(defaults?.nats?.url, 'nats.url'),
      user: file.nats?.user ?? need(defaults?.nats?.user, 'nats.user'),
      password: file.nats?.password ?? need(defaults?.nats?.password, 'nats.password'),
    },
    intervals: {
      pollDirectorMs: s(file.intervals?.poll_director, 60),
      analyzeMs: s(file.intervals?.analyze_agents, 60),
      gracePeriodMs: s(file.intervals?.poll_grace_period, 30),
      agentTimeoutMs: s(file.intervals?.agent_timeout, 60),
      rogueAgentAlertMs: s(file.intervals?.rogue_agent_alert, 120),
      maxBackoffMs: s(file.intervals?.max_backoff, 30),
    },
    resurrector: {
      enabled: sources.resurrector ?? r.enabled ?? false,
      minimumDownJobs: r.minimum_down_jobs ?? 5,
      percentThreshold: r.percent_threshold ?? 0.2,
      timeThresholdMs: s(r.time_threshold, 600),
      autoFixStatefulNodes: r.auto_fix_stateful_nodes ?? false,
      localRules: r.rules ?? [],
    },
    webhook:
      file.webhook === undefined
        ? null
        : {
            url: file.webhook.url,
            timeoutMs: s(file.webhook.timeout, 5),
            queueSize: file.webhook.queue_size ?? 1000,
          },
    directorEvents: file.director_events ?? true,
    logFile: file.log_file === undefined ? null : resolve(base, file.log_file),
    logLevel: file.log_level ?? 'info',
  };
}
