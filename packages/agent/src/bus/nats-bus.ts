import { connect, type NatsConnection } from 'nats';
import type { AgentAlert, Heartbeat } from '@refit/protocol';
import type { Dispatcher } from '../dispatcher.ts';
import type { Log } from '../log.ts';
import type { MbusTarget } from '../settings.ts';
import { handleMessage } from './handle-message.ts';

export interface NatsBusOptions {
  readonly mbus: MbusTarget;
  readonly agentId: string;
  readonly dispatcher: Dispatcher;
  readonly heartbeat: () => Promise<Heartbeat>;
  readonly heartbeatMs: number;
  readonly log: Log;
}

/**
 * The agent on NATS: subscribes to `agent.<id>`, answers on reply_to, publishes heartbeats on
 * `hm.agent.heartbeat.<id>` once at start and then every interval. Always authenticated.
 */
export class NatsBus {
  readonly #options: NatsBusOptions;
  #nc: NatsConnection | null = null;
  #timer: NodeJS.Timeout | null = null;
  #serving: Promise<void> | null = null;

  constructor(options: NatsBusOptions) {
    this.#options = options;
  }

  async start(): Promise<void> {
    const { mbus, agentId, log } = this.#options;
    this.#nc = await connect({
      servers: mbus.servers,
      user: mbus.user,
      pass: mbus.pass,
      name: `refit-agent ${agentId}`,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 1000,
      ...(mbus.ca === undefined ? {} : { tls: { ca: mbus.ca } }),
    });
    const nc = this.#nc;
    const subscription = nc.subscribe(`agent.${agentId}`);
    log.info(`listening on agent.${agentId} at ${mbus.servers}`);
    this.#serving = (async () => {
      for await (const message of subscription) {
        // Each request runs on its own so a slow sync action does not hold up get_task polls.
        void handleMessage(message.data, (m, a) => this.#options.dispatcher.dispatch(m, a), log).then(
          (reply) => {
            if (reply === null || nc.isClosed()) return;
            try {
              nc.publish(reply.replyTo, reply.body);
            } catch (error) {
              // A reply_to NATS refuses (spaces, wildcards) must not take the agent down.
              log.warn(`cannot reply on '${reply.replyTo.slice(0, 200)}': ${String(error)}`);
            }
          },
        );
      }
    })();
    await this.#beat();
    this.#timer = setInterval(() => void this.#beat(), this.#options.heartbeatMs);
  }

  async #beat(): Promise<void> {
    const nc = this.#nc;
    if (!nc || nc.isClosed()) return;
    try {
      const heartbeat = await this.#options.heartbeat();
      nc.publish(`hm.agent.heartbeat.${this.#options.agentId}`, JSON.stringify(heartbeat));
    } catch (error) {
      this.#options.log.error(`heartbeat: ${String(error)}`);
    }
  }

  /** Publishes an alert on `hm.agent.alert.<id>` (dropped while disconnected, as monit's would be). */
  alert(alert: AgentAlert): void {
    const nc = this.#nc;
    if (nc && !nc.isClosed()) nc.publish(`hm.agent.alert.${this.#options.agentId}`, JSON.stringify(alert));
  }

  /** Resolves when the connection closes (for the process's lifetime). */
  async closed(): Promise<void> {
    const error = await this.#nc?.closed();
    if (error) throw error;
  }

  async close(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    if (this.#nc && !this.#nc.isClosed()) await this.#nc.drain();
    await this.#serving;
  }
}
