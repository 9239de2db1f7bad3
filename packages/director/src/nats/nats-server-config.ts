import type { AgentNatsUser } from './agent-nats-users.ts';
import type { NatsUser } from './nats-credentials.ts';

/**
 * Subjects each user may use, after BOSH's `bosh-nats-sync` (reference §3.1). Every VM the
 * director creates gets its own user scoped to its agent id (`agentPermissions`, passed to the
 * agent in `env.bosh.mbus.urls`). `agents` is the older shared user: kept so that VMs created
 * before per-agent users (their settings carry the shared URL) and agents of an external NATS
 * still connect; any holder of it can act as any agent.
 */
export const NatsPermissions = {
  director: { publish: ['agent.*', 'hm.director.alert'], subscribe: ['director.>'] },
  hm: {
    publish: [],
    subscribe: ['hm.agent.heartbeat.*', 'hm.agent.alert.*', 'hm.agent.shutdown.*', 'hm.director.alert'],
  },
  agents: {
    publish: ['hm.agent.heartbeat.*', 'hm.agent.alert.*', 'hm.agent.shutdown.*', 'director.*.*.*'],
    subscribe: ['agent.*'],
  },
} as const satisfies Record<string, { publish: readonly string[]; subscribe: readonly string[] }>;

/**
 * One agent's subjects, as bosh-nats-sync grants them: its heartbeats, alerts and shutdown
 * notice, replies to any director process (`director.<process uuid>.<agent id>.<request id>`),
 * and its own request subject. Nothing of another agent.
 */
export function agentPermissions(agentId: string): { publish: string[]; subscribe: string[] } {
  return {
    publish: [
      `hm.agent.heartbeat.${agentId}`,
      `hm.agent.alert.${agentId}`,
      `hm.agent.shutdown.${agentId}`,
      `director.*.${agentId}.*`,
    ],
    subscribe: [`agent.${agentId}`],
  };
}

export interface NatsServerConfigInput {
  readonly port: number;
  readonly pidFile: string;
  readonly director: NatsUser;
  readonly hm: NatsUser;
  readonly agents: NatsUser;
  /** One user per VM the director created (agent ids already checked subject-safe). */
  readonly agentUsers?: readonly AgentNatsUser[];
}

const quote = (text: string) => JSON.stringify(text);
const list = (subjects: readonly string[]) => `[${subjects.map(quote).join(', ')}]`;

function permissions(allowed: {
  readonly publish: readonly string[];
  readonly subscribe: readonly string[];
}) {
  // An empty allow list would mean "anything": deny everything instead.
  const publish = allowed.publish.length === 0 ? `{ deny: [">"] }` : `{ allow: ${list(allowed.publish)} }`;
  const subscribe =
    allowed.subscribe.length === 0 ? `{ deny: [">"] }` : `{ allow: ${list(allowed.subscribe)} }`;
  return `{ publish: ${publish}, subscribe: ${subscribe} }`;
}

/**
 * nats-server's config file: loopback only, no monitoring port, the director, hm and shared agent
 * users and one user per agent, each with its permissions.
 */
export function renderNatsServerConfig(input: NatsServerConfigInput): string {
  const user = (who: NatsUser, allowed: Parameters<typeof permissions>[0]) =>
    `    { user: ${quote(who.user)}, password: ${quote(who.password)}, permissions: ${permissions(allowed)} }`;
  return [
    '# Written by refit-director at every start and VM change; do not edit (it is regenerated).',
    `listen: "127.0.0.1:${input.port}"`,
    `pid_file: ${quote(input.pidFile)}`,
    'max_payload: 1048576',
    'authorization {',
    '  users = [',
    user(input.director, NatsPermissions.director),
    user(input.hm, NatsPermissions.hm),
    user(input.agents, NatsPermissions.agents),
    ...(input.agentUsers ?? []).map((agent) => user(agent, agentPermissions(agent.agentId))),
    '  ]',
    '}',
    '',
  ].join('\n');
}
