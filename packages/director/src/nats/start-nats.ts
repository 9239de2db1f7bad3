import { join } from 'node:path';
import type { DirectorLog } from '../config/director-log.ts';
import type { NatsConfig } from '../config/director-config.ts';
import { EmbeddedNatsServer, type NatsEndpoint } from './embedded-nats-server.ts';

export interface RunningNats {
  readonly endpoint: NatsEndpoint;
  /** Stops the embedded server; nothing for an existing NATS. */
  stop(): Promise<void>;
}

/** The embedded nats-server under `DIR/nats`, or the existing NATS the config names. */
export async function startNats(
  config: NatsConfig,
  stateDir: string,
  log: DirectorLog,
  signal?: AbortSignal,
): Promise<RunningNats> {
  if (config.kind === 'external') {
    return {
      endpoint: { url: config.url, director: config.director, agents: config.agents, hm: config.hm },
      stop: () => Promise.resolve(),
    };
  }
  const server = await EmbeddedNatsServer.start(
    { dir: join(stateDir, 'nats'), executable: config.executable, port: config.port, log },
    signal,
  );
  log.info('nats-server ready', { url: server.endpoint.url });
  return { endpoint: server.endpoint, stop: () => server.stop() };
}
