import { connect, type NatsConnection } from 'nats';
import type { Heartbeat } from '@refit/protocol';

export interface ImpersonatedAgent {
  readonly agentId: string;
  readonly deployment: string;
  readonly job: string;
  readonly index: number;
  readonly instanceId: string;
}

/**
 * Impersonates agents: publishes each live agent's heartbeat on `hm.agent.heartbeat.<id>` every
 * `periodMs`, spread evenly over the period (as independent agents would be).
 */
export class HeartbeatLoad {
  readonly #nc: NatsConnection;
  readonly #agents: ImpersonatedAgent[];
  readonly #silent = new Set<string>();
  readonly #lastPublished = new Map<string, number>();
  readonly #periodMs: number;
  #timer: NodeJS.Timeout | null = null;
  #cursor = 0;
  published = 0;

  private constructor(nc: NatsConnection, agents: ImpersonatedAgent[], periodMs: number) {
    this.#nc = nc;
    this.#agents = agents;
    this.#periodMs = periodMs;
  }

  static async start(
    nats: { url: string; user: string; password: string },
    agents: ImpersonatedAgent[],
    periodMs: number,
  ): Promise<HeartbeatLoad> {
    const nc = await connect({ servers: nats.url, user: nats.user, pass: nats.password, timeout: 5000 });
    const load = new HeartbeatLoad(nc, agents, periodMs);
    load.#begin();
    return load;
  }

  static heartbeat(agent: ImpersonatedAgent): Heartbeat {
    return {
      deployment: agent.deployment,
      job: agent.job,
      index: agent.index,
      job_state: 'running',
      node_id: agent.instanceId,
      number_of_processes: 1,
      vitals: { load: ['0.00', '0.00', '0.00'], uptime: { secs: 1 } },
    };
  }

  /** Publishes one heartbeat for every live agent at once (e.g. "once at start"). */
  burst(): void {
    for (const agent of this.#agents) this.#publish(agent);
  }

  /** The agent stops heartbeating (as a lost VM). */
  silence(agentId: string): void {
    this.#silent.add(agentId);
  }

  publishRaw(subject: string, data: string): void {
    this.#nc.publish(subject, new TextEncoder().encode(data));
  }

  #publish(agent: ImpersonatedAgent): void {
    if (this.#silent.has(agent.agentId)) return;
    this.#nc.publish(
      `hm.agent.heartbeat.${agent.agentId}`,
      new TextEncoder().encode(JSON.stringify(HeartbeatLoad.heartbeat(agent))),
    );
    this.published += 1;
    this.#lastPublished.set(agent.agentId, Date.now());
  }

  /** When this agent's last heartbeat was published (ms since the epoch), if ever. */
  lastPublished(agentId: string): number | undefined {
    return this.#lastPublished.get(agentId);
  }

  #begin(): void {
    const tickMs = 20;
    const perMs = this.#agents.length / this.#periodMs;
    let owed = 0;
    let last = performance.now();
    this.#timer = setInterval(() => {
      // Owed by elapsed time, not by tick count: a late timer does not lower the rate.
      const now = performance.now();
      owed += (now - last) * perMs;
      last = now;
      const count = Math.floor(owed);
      owed -= count;
      for (let i = 0; i < count && this.#agents.length > 0; i += 1) {
        const agent = this.#agents[this.#cursor % this.#agents.length];
        this.#cursor += 1;
        if (agent) this.#publish(agent);
      }
    }, tickMs);
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    await this.#nc.drain().catch(() => {});
  }
}
