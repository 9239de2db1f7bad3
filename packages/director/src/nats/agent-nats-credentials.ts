import type { AgentCredentialIssuer } from '../cpi-client/agent-credentials-cloud.ts';
import { mbusUrl } from '../agent-client/cpi-local-agent-config.ts';
import type { AgentNatsUser, AgentNatsUserStore } from './agent-nats-users.ts';

/**
 * What the issuer needs of the bus: a reload that resolves once `ready` can connect and every
 * `gone` user is refused.
 */
export interface ReloadableNats {
  reload(
    ready?: { user: string; password: string },
    signal?: AbortSignal,
    gone?: readonly { user: string; password: string }[],
  ): Promise<void>;
}

/**
 * Per-agent NATS users of the embedded nats-server: stored in `nats_agent_users` (so they
 * survive director restarts), rendered into the server's config, applied by a reload.
 */
export class AgentNatsCredentials implements AgentCredentialIssuer {
  readonly #store: AgentNatsUserStore;
  readonly #nats: ReloadableNats;
  readonly #url: string;
  readonly #now: () => number;

  constructor(options: { store: AgentNatsUserStore; nats: ReloadableNats; url: string; now?: () => number }) {
    this.#store = options.store;
    this.#nats = options.nats;
    this.#url = options.url;
    this.#now = options.now ?? Date.now;
  }

  async issue(agentId: string, signal: AbortSignal): Promise<{ user: AgentNatsUser; mbus: string }> {
    const user = await this.#store.create(agentId, this.#now());
    try {
      await this.#nats.reload(user, signal);
    } catch (error) {
      await this.revokeAgent(agentId).catch(() => undefined);
      throw error;
    }
    return { user, mbus: mbusUrl(this.#url, user.user, user.password) };
  }

  async bindVm(agentId: string, vmCid: string): Promise<void> {
    await this.#store.bindVm(agentId, vmCid);
  }

  async revokeAgent(agentId: string): Promise<void> {
    await this.#revoke(() => this.#store.removeAgent(agentId));
  }

  async revokeVm(vmCid: string): Promise<void> {
    await this.#revoke(() => this.#store.removeVm(vmCid));
  }

  /** Removes users, reloads, and returns once the removed ones are refused by the server. */
  async #revoke(remove: () => Promise<boolean>): Promise<void> {
    const before = await this.#store.all();
    if (!(await remove())) return;
    const left = new Set((await this.#store.all()).map((u) => u.user));
    await this.#nats.reload(
      undefined,
      undefined,
      before.filter((u) => !left.has(u.user)),
    );
  }
}
