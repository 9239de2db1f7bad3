import { randomUUID } from 'node:crypto';
import { JSONCodec, type NatsConnection, type Subscription } from 'nats';

const codec = JSONCodec<unknown>();

export class AgentException extends Error {
  readonly code = 'agent_exception';
}

interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
}

/**
 * Talks to agents over NATS as the director does (reference §3.1): requests on
 * `agent.<id>` with `reply_to` = `director.<uuid>.<agent id>.<request id>`, async actions polled
 * with `get_task`.
 */
export class AgentBus {
  readonly #nc: NatsConnection;
  readonly #uuid = randomUUID();
  readonly #pending = new Map<string, Pending>();
  readonly #sub: Subscription;

  constructor(nc: NatsConnection) {
    this.#nc = nc;
    this.#sub = nc.subscribe(`director.${this.#uuid}.>`, {
      callback: (_err, msg) => {
        const id = msg.subject.split('.').at(-1) ?? '';
        const pending = this.#pending.get(id);
        if (!pending) return;
        this.#pending.delete(id);
        let body: unknown;
        try {
          body = codec.decode(msg.data);
        } catch (error) {
          pending.reject(error as Error);
          return;
        }
        const reply = body as { value?: unknown; exception?: { message: string } };
        if (reply.exception) pending.reject(new AgentException(reply.exception.message));
        else pending.resolve(reply.value);
      },
    });
  }

  /** One request, answered within `timeoutMs`. */
  async send(agentId: string, method: string, args: unknown[], timeoutMs: number): Promise<unknown> {
    const requestId = randomUUID();
    const replyTo = `director.${this.#uuid}.${agentId}.${requestId}`;
    const answer = new Promise<unknown>((resolve, reject) =>
      this.#pending.set(requestId, { resolve, reject }),
    );
    const timer = setTimeout(() => {
      const pending = this.#pending.get(requestId);
      this.#pending.delete(requestId);
      pending?.reject(new Error(`agent ${agentId} did not answer ${method} within ${timeoutMs} ms`));
    }, timeoutMs);
    try {
      this.#nc.publish(
        `agent.${agentId}`,
        codec.encode({ protocol: 3, method, arguments: args, reply_to: replyTo }),
      );
      return await answer;
    } finally {
      clearTimeout(timer);
    }
  }

  /** A request whose answer may be an async task: polls get_task until it finishes. */
  async run(agentId: string, method: string, args: unknown[], timeoutMs: number): Promise<unknown> {
    const deadline = Date.now() + timeoutMs;
    let value = await this.send(agentId, method, args, timeoutMs);
    for (;;) {
      const task = value as { agent_task_id?: string; state?: string } | null;
      if (task === null || typeof task !== 'object' || task.state !== 'running' || !task.agent_task_id)
        return value;
      if (Date.now() > deadline) throw new Error(`agent task ${method} still running after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 100));
      value = await this.send(
        agentId,
        'get_task',
        [task.agent_task_id],
        Math.max(1000, deadline - Date.now()),
      );
    }
  }

  /** Pings until the agent answers within 1 s, for at most `timeoutMs`. */
  async waitForPing(agentId: string, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        if ((await this.send(agentId, 'ping', [], 1000)) === 'pong') return;
      } catch (error) {
        if (Date.now() > deadline) throw error;
      }
      if (Date.now() > deadline)
        throw new Error(`agent ${agentId} did not answer ping within ${timeoutMs} ms`);
    }
  }

  close(): void {
    this.#sub.unsubscribe();
    for (const pending of this.#pending.values()) pending.reject(new Error('closed'));
    this.#pending.clear();
  }
}

/** Heartbeats per agent id as they arrive on `hm.agent.heartbeat.*`. */
export class HeartbeatWatch {
  readonly #sub: Subscription;
  readonly #waiters: { agentId: string; after: number; resolve(hb: unknown): void }[] = [];
  readonly last = new Map<string, { at: number; body: unknown }>();

  constructor(nc: NatsConnection) {
    this.#sub = nc.subscribe('hm.agent.heartbeat.*', {
      callback: (_err, msg) => {
        const agentId = msg.subject.split('.').at(-1) ?? '';
        const at = performance.now();
        let body: unknown = null;
        try {
          body = codec.decode(msg.data);
        } catch {
          /* counted, even if malformed */
        }
        this.last.set(agentId, { at, body });
        for (let i = this.#waiters.length - 1; i >= 0; i--) {
          const w = this.#waiters[i];
          if (w && w.agentId === agentId && at >= w.after) {
            this.#waiters.splice(i, 1);
            w.resolve(body);
          }
        }
      },
    });
  }

  /** The first heartbeat of `agentId` received at or after `after` (performance.now()). */
  next(agentId: string, after: number, timeoutMs: number): Promise<{ at: number; body: unknown }> {
    const seen = this.last.get(agentId);
    if (seen && seen.at >= after) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const waiter = {
        agentId,
        after,
        resolve: (body: unknown) => {
          clearTimeout(timer);
          resolve({ at: this.last.get(agentId)?.at ?? performance.now(), body });
        },
      };
      const timer = setTimeout(() => {
        const i = this.#waiters.indexOf(waiter);
        if (i >= 0) this.#waiters.splice(i, 1);
        reject(new Error(`no heartbeat from ${agentId} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#waiters.push(waiter);
    });
  }

  close(): void {
    this.#sub.unsubscribe();
  }
}
