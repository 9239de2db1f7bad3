import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect, type NatsConnection, type Subscription } from 'nats';
import {
  AgentMethods,
  AgentResponse,
  type AgentMethod,
  type AgentMethodArgs,
  type AgentMethodResult,
} from '@refit/protocol';
import type { DirectorLog } from '../config/director-log.ts';
import {
  AgentError,
  AgentTimeoutError,
  type AgentCallOptions,
  type AgentClient,
  type AgentWaitOptions,
} from './agent-client.ts';

export interface NatsAgentClientOptions {
  /** `nats://127.0.0.1:<port>`, without credentials. */
  readonly url: string;
  readonly user: string;
  readonly password: string;
  readonly log: DirectorLog;
  /** Per reply; default 45 s (BOSH). */
  readonly replyTimeoutMs?: number;
  /**
   * The longest wait between `get_task` polls; default 1 s (BOSH's fixed interval). Polls start
   * at `pollFirstMs` and double up to it.
   */
  readonly pollIntervalMs?: number;
  /** The wait before the first `get_task`; default 50 ms (or `pollIntervalMs` if shorter). Equal to `pollIntervalMs`: a fixed interval. */
  readonly pollFirstMs?: number;
  /** How the client waits between polls (tests inject a recording one); default a timer. */
  readonly sleep?: (ms: number, signal: AbortSignal | undefined) => Promise<void>;
  /** `waitUntilReady`'s default deadline; default 600 s (BOSH's agent_wait_timeout). */
  readonly waitTimeoutMs?: number;
}

/** Retries after a timed-out reply, per method (BOSH's agent_client.rb). */
const RETRIES_ON_TIMEOUT: Partial<Record<string, number>> = { get_state: 2, get_task: 4 };
const PING_TIMEOUT_MS = 1000;
/** The first `get_task` poll's delay when not configured. */
export const FIRST_POLL_MS = 50;

/**
 * The waits between `get_task` polls: `first`, then doubling up to `max` (fast for short agent
 * tasks such as stop or apply, at most one poll per `max` for long ones). `first >= max` is a
 * fixed interval.
 */
export function pollDelay(poll: number, first: number, max: number): number {
  if (first >= max) return max;
  return Math.min(max, first * 2 ** Math.min(poll, 30));
}

const timerSleep = (ms: number, signal: AbortSignal | undefined): Promise<void> =>
  sleep(ms, undefined, signal ? { signal } : {});

interface Pending {
  resolve(reply: AgentResponse): void;
  reject(error: Error): void;
}

type Reply = { readonly value: unknown } | { readonly exception: { readonly message: string } };

/**
 * `AgentClient` over NATS (reference §3.1). Requests go to `agent.<agent_id>` with
 * `reply_to = director.<process uuid>.<agent_id>.<request uuid>`; one wildcard subscription
 * `director.<process uuid>.>` receives every reply and hands it to the request whose id is the
 * last token. The connection reconnects forever (a restarted nats-server is picked up again).
 */
export class NatsAgentClient implements AgentClient {
  /** This client's process uuid, the second token of every reply subject. */
  readonly processUuid = randomUUID();
  readonly #nc: NatsConnection;
  readonly #options: NatsAgentClientOptions;
  readonly #pending = new Map<string, Pending>();
  readonly #subscription: Subscription;

  private constructor(nc: NatsConnection, options: NatsAgentClientOptions) {
    this.#nc = nc;
    this.#options = options;
    this.#subscription = nc.subscribe(`director.${this.processUuid}.>`, {
      callback: (error, message) => {
        if (error !== null) return;
        this.#receive(message.subject, message.data);
      },
    });
  }

  static async connect(options: NatsAgentClientOptions): Promise<NatsAgentClient> {
    const nc = await connect({
      servers: new URL(options.url).host,
      user: options.user,
      pass: options.password,
      name: 'refit-director',
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
      waitOnFirstConnect: false,
    });
    const client = new NatsAgentClient(nc, options);
    await nc.flush();
    return client;
  }

  async call<M extends AgentMethod>(
    agentId: string,
    method: M,
    args: AgentMethodArgs<M>,
    options: AgentCallOptions = {},
  ): Promise<AgentMethodResult<M>> {
    const timeoutMs = options.replyTimeoutMs ?? this.#options.replyTimeoutMs ?? 45_000;
    let reply = await this.#sendWithRetries(
      agentId,
      method,
      args as readonly unknown[],
      timeoutMs,
      options.signal,
    );
    const taskId = runningTaskId(reply);
    if (taskId !== null) reply = await this.#poll(agentId, method, taskId, timeoutMs, options);
    if ('exception' in reply) throw new AgentError(agentId, method, reply.exception.message);
    const parsed = AgentMethods[method].result.safeParse(finalValue(reply.value));
    if (!parsed.success) {
      throw new AgentError(
        agentId,
        method,
        `agent '${agentId}' answered ${method} with an unexpected value`,
        {
          cause: parsed.error,
        },
      );
    }
    return parsed.data as AgentMethodResult<M>;
  }

  async waitUntilReady(agentId: string, vmCid: string, options: AgentWaitOptions = {}): Promise<void> {
    const timeoutMs = options.timeoutMs ?? this.#options.waitTimeoutMs ?? 600_000;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      options.signal?.throwIfAborted();
      const started = Date.now();
      try {
        const reply = await this.#request(agentId, 'ping', [], PING_TIMEOUT_MS, options.signal);
        // An answer, even an exception ("restarting agent"), means the agent is there but maybe
        // not ready: only pong ends the wait.
        if ('value' in reply && reply.value === 'pong') return;
      } catch (error) {
        if (!(error instanceof AgentTimeoutError)) throw error;
      }
      if (Date.now() >= deadline) {
        throw new AgentTimeoutError(
          agentId,
          'ping',
          `Timed out pinging VM '${vmCid}' with agent '${agentId}' after ${Math.round(timeoutMs / 1000)} seconds`,
        );
      }
      // A ping that failed fast (an exception, a closed connection) must not spin.
      const waited = Date.now() - started;
      if (waited < PING_TIMEOUT_MS)
        await sleep(PING_TIMEOUT_MS - waited, undefined, { signal: options.signal });
    }
  }

  /** Rejects what is pending and drains the connection. */
  async close(): Promise<void> {
    this.#subscription.unsubscribe();
    for (const pending of this.#pending.values()) pending.reject(new Error('agent client closed'));
    this.#pending.clear();
    if (!this.#nc.isClosed()) await this.#nc.drain();
  }

  async #poll(
    agentId: string,
    method: string,
    taskId: string,
    timeoutMs: number,
    options: AgentCallOptions,
  ): Promise<Reply> {
    const { signal, onProgress } = options;
    const max = this.#options.pollIntervalMs ?? 1000;
    const first = Math.min(this.#options.pollFirstMs ?? FIRST_POLL_MS, max);
    const wait = this.#options.sleep ?? timerSleep;
    try {
      for (let poll = 0; ; poll++) {
        await wait(pollDelay(poll, first, max), signal);
        signal?.throwIfAborted();
        const reply = await this.#sendWithRetries(agentId, 'get_task', [taskId], timeoutMs, signal);
        if (runningTaskId(reply) === null) return reply;
        const progress = (reply as { value: { progress?: unknown } }).value.progress;
        if (progress !== undefined && onProgress !== undefined) {
          try {
            onProgress(progress);
          } catch (error) {
            // A progress report never fails the action it reports on.
            this.#options.log.warn('progress callback failed', {
              agent_id: agentId,
              method,
              error: String(error),
            });
          }
        }
      }
    } catch (error) {
      if (signal?.aborted === true) {
        // Best effort, unanswered: the agent stops the task; we stop waiting for it now.
        this.#publish(
          agentId,
          'cancel_task',
          [taskId],
          `director.${this.processUuid}.${agentId}.cancel-${taskId}`,
        );
        this.#options.log.info('agent task cancelled', { agent_id: agentId, method, agent_task_id: taskId });
        throw signal.reason;
      }
      throw error;
    }
  }

  async #sendWithRetries(
    agentId: string,
    method: string,
    args: readonly unknown[],
    timeoutMs: number,
    signal: AbortSignal | undefined,
  ): Promise<Reply> {
    const retries = RETRIES_ON_TIMEOUT[method] ?? 0;
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.#request(agentId, method, args, timeoutMs, signal);
      } catch (error) {
        if (!(error instanceof AgentTimeoutError) || attempt >= retries) throw error;
        this.#options.log.warn('agent did not answer in time; retrying', {
          agent_id: agentId,
          method,
          attempt: attempt + 1,
        });
      }
    }
  }

  /** One message, one reply (or AgentTimeoutError after `timeoutMs`, or the abort reason). */
  #request(
    agentId: string,
    method: string,
    args: readonly unknown[],
    timeoutMs: number,
    signal: AbortSignal | undefined,
  ): Promise<Reply> {
    signal?.throwIfAborted();
    const requestId = randomUUID();
    const replyTo = `director.${this.processUuid}.${agentId}.${requestId}`;
    return new Promise<Reply>((resolve, reject) => {
      const settle = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.#pending.delete(requestId);
      };
      const onAbort = () => {
        settle();
        reject(signal?.reason as Error);
      };
      const timer = setTimeout(() => {
        settle();
        reject(
          new AgentTimeoutError(
            agentId,
            method,
            `Timed out sending '${method}' to agent '${agentId}' after ${Math.round(timeoutMs / 1000)} seconds`,
          ),
        );
      }, timeoutMs);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#pending.set(requestId, {
        resolve: (reply) => {
          settle();
          resolve(reply);
        },
        reject: (error) => {
          settle();
          reject(error);
        },
      });
      try {
        this.#publish(agentId, method, args, replyTo);
      } catch (error) {
        settle();
        reject(error instanceof Error ? error : new Error(String(error)));
      }
    });
  }

  #publish(agentId: string, method: string, args: readonly unknown[], replyTo: string): void {
    this.#nc.publish(
      `agent.${agentId}`,
      JSON.stringify({ protocol: 3, method, arguments: args, reply_to: replyTo }),
    );
  }

  #receive(subject: string, data: Uint8Array): void {
    const requestId = subject.slice(subject.lastIndexOf('.') + 1);
    const pending = this.#pending.get(requestId);
    if (pending === undefined) return; // late (timed out) or a cancel_task answer
    let parsed: AgentResponse;
    try {
      parsed = AgentResponse.parse(JSON.parse(Buffer.from(data).toString('utf8')));
    } catch (error) {
      const agentId = subject.split('.')[2] ?? '';
      pending.reject(
        new AgentError(agentId, 'reply', `agent '${agentId}' sent a reply that is not BOSH's envelope`, {
          cause: error,
        }),
      );
      return;
    }
    pending.resolve(parsed);
  }
}

/** The task id of `{"value": {"agent_task_id", "state": "running"}}`, else null. */
function runningTaskId(reply: Reply): string | null {
  if (!('value' in reply)) return null;
  const value = reply.value;
  if (typeof value !== 'object' || value === null) return null;
  const task = value as { agent_task_id?: unknown; state?: unknown };
  return task.state === 'running' && typeof task.agent_task_id === 'string' ? task.agent_task_id : null;
}

/** Old agents answer a finished task as `{agent_task_id, state: "done", value}` (BOSH's converter). */
function finalValue(value: unknown): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  const task = value as { agent_task_id?: unknown; state?: unknown; value?: unknown };
  return typeof task.agent_task_id === 'string' && task.state === 'done' && 'value' in task
    ? task.value
    : value;
}
