import { parse, stringify } from 'yaml';
import type { BlobstoreSettings } from '@refit/protocol';

/** What every VM's agent is told to reach the director: the bus and the blobstore. */
export interface AgentAccess {
  /** `nats://<agents user>:<password>@127.0.0.1:<port>` */
  readonly mbus: string;
  readonly blobstore: BlobstoreSettings;
}

/** The NATS URL with credentials that agent settings carry (`mbus`). */
export function mbusUrl(url: string, user: string, password: string): string {
  const parsed = new URL(url);
  parsed.username = encodeURIComponent(user);
  parsed.password = encodeURIComponent(password);
  return parsed.toString().replace(/\/$/, '');
}

/**
 * refit-cpi-local's config with the agent access filled in: the generated config's base (state
 * dir, …) with `agent.mbus` and `agent.blobstore` replaced. Rewritten at every start so that it
 * always names the NATS and blobstore the director really serves.
 */
export function cpiLocalConfigWithAgentAccess(baseText: string, access: AgentAccess): string {
  const base = (parse(baseText) ?? {}) as Record<string, unknown>;
  const agent =
    typeof base.agent === 'object' && base.agent !== null ? (base.agent as Record<string, unknown>) : {};
  const document = { ...base, agent: { ...agent, mbus: access.mbus, blobstore: access.blobstore } };
  return `# Written by refit-director at every start (mode 0600): edits are lost. To run the local CPI\n# with your own config, name it in the director config (cpi: {executable, args}).\n${stringify(document)}`;
}
