import { join } from 'node:path';
import type { DirectorLog } from '../config/director-log.ts';
import type { NatsConfig } from '../config/director-config.ts';
import { AgentNatsCredentials } from './agent-nats-credentials.ts';
import type { AgentNatsUserStore } from './agent-nats-users.ts';
import { EmbeddedNatsServer, type NatsEndpoint } from './embedded-nats-server.ts';

export interface RunningNats {
  readonly endpoint: NatsEndpoint;
  /**
   * Per-agent users (embedded server with a store only); null: every agent uses the shared
   * `endpoint.agents` user (an existing NATS, whose users the director does not manage).
   */
  readonly agentCredentials: AgentNatsCredentials | null;
  /** Stops the embedded server; nothing for an existing NATS. */
  stop(): Promise<void>;
}

/** The embedded nats-server under `DIR/nats`, or the existing NATS the config names. */
export async function startNats(
  config: NatsConfig,
  stateDir: string,
  log: DirectorLog,
  agentUsers: AgentNatsUserStore | null,
  signal?: AbortSignal,
): Promise<RunningNats> {
  if (config.kind === 'external') {
    return {
      endpoint: { url: config.url, director: config.director, agents: config.agents, hm: config.hm },
      agentCredentials: null,
      stop: () => Promise.resolve(),
    };
  }
  const server = await EmbeddedNatsServer.start(
    {
      dir: join(stateDir, 'nats'),
      executable: config.executable,
      port: config.port,
      log,
      ...(agentUsers !== null ? { agentUsers: () => agentUsers.all() } : {}),
    },
    signal,
  );
  log.info('nats-server ready', { url: server.endpoint.url });
  const agentCredentials =
    agentUsers === null
      ? null
      : new AgentNatsCredentials({ store: agentUsers, nats: server, url: server.endpoint.url });
  return { endpoint: server.endpoint, agentCredentials, stop: () => server.stop() };
}
