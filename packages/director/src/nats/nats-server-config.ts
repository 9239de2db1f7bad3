import type { NatsUser } from './nats-credentials.ts';

/**
 * Subjects each user may use, after BOSH's `bosh-nats-sync` (reference §3.1). Agents share one
 * user (the CPI hands every VM the same mbus URL): an agent can therefore publish as another
 * agent and read any agent's requests. BOSH closes that with per-agent mTLS certificates; Refit's
 * loopback-only VMs accept it for now.
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

export interface NatsServerConfigInput {
  readonly port: number;
  readonly pidFile: string;
  readonly director: NatsUser;
  readonly hm: NatsUser;
  readonly agents: NatsUser;
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

/** nats-server's config file: loopback only, no monitoring port, three users with permissions. */
export function renderNatsServerConfig(input: NatsServerConfigInput): string {
  const user = (who: NatsUser, allowed: Parameters<typeof permissions>[0]) =>
    `    { user: ${quote(who.user)}, password: ${quote(who.password)}, permissions: ${permissions(allowed)} }`;
  return [
    '# Written by refit-director at every start; do not edit (it is regenerated).',
    `listen: "127.0.0.1:${input.port}"`,
    `pid_file: ${quote(input.pidFile)}`,
    'max_payload: 1048576',
    'authorization {',
    '  users = [',
    user(input.director, NatsPermissions.director),
    user(input.hm, NatsPermissions.hm),
    user(input.agents, NatsPermissions.agents),
    '  ]',
    '}',
    '',
  ].join('\n');
}
