import { connect, type NatsConnection, type Subscription } from 'nats';
import type { EventKind } from './fleet.ts';
import { errorText, type HmLog } from './hm-log.ts';

export interface NatsListenerOptions {
  readonly url: string;
  readonly user: string;
  readonly password: string;
  readonly log: HmLog;
  readonly onMessage: (kind: EventKind, agentId: string, data: Uint8Array) => void;
  /** For the first connection (default 10 s); afterwards it reconnects forever. */
  readonly connectTimeoutMs?: number;
}

const KINDS: readonly EventKind[] = ['heartbeat', 'alert', 'shutdown'];

/** Subscribes to `hm.agent.{heartbeat,alert,shutdown}.*` and hands each message on. */
export class NatsListener {
  readonly #nc: NatsConnection;
  readonly #subscriptions: Subscription[];

  private constructor(nc: NatsConnection, subscriptions: Subscription[]) {
    this.#nc = nc;
    this.#subscriptions = subscriptions;
  }

  static async start(options: NatsListenerOptions, signal: AbortSignal): Promise<NatsListener> {
    const { log } = options;
    const deadline = AbortSignal.any([signal, AbortSignal.timeout(options.connectTimeoutMs ?? 10_000)]);
    let nc: NatsConnection | null = null;
    let lastError: unknown = null;
    // The director may start its nats-server moments after us: retry until the deadline.
    while (nc === null) {
      try {
        nc = await connect({
          servers: options.url,
          user: options.user,
          pass: options.password,
          name: 'refit-hm',
          timeout: 2000,
          reconnect: true,
          maxReconnectAttempts: -1,
          reconnectTimeWait: 500,
        });
      } catch (error) {
        lastError = error;
        if (deadline.aborted)
          throw new Error(`cannot connect to NATS at ${options.url}: ${errorText(lastError)}`, {
            cause: lastError,
          });
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    }
    void (async () => {
      for await (const status of nc.status()) log.info('nats status', { type: String(status.type) });
    })().catch(() => {});
    const subscriptions = KINDS.map((kind) =>
      nc.subscribe(`hm.agent.${kind}.*`, {
        callback: (error, message) => {
          if (error) {
            log.error('nats subscription error', { kind, error: errorText(error) });
            return;
          }
          const agentId = message.subject.split('.').slice(3).join('.');
          options.onMessage(kind, agentId, message.data);
        },
      }),
    );
    await nc.flush();
    log.info('listening for agents', { url: options.url });
    return new NatsListener(nc, subscriptions);
  }

  async close(): Promise<void> {
    for (const subscription of this.#subscriptions) subscription.unsubscribe();
    await this.#nc.close().catch(() => {});
  }
}
