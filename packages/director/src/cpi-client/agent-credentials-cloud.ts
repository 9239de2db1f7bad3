import type { AgentNatsUser } from '../nats/agent-nats-users.ts';
import { CpiCallError } from './cpi-call-error.ts';
import type { Cloud, CpiCallOptions } from './cloud.ts';
import { CpiErrorType, type CpiInfo } from '@refit/protocol';

/** Issues and revokes per-agent NATS users (nats/agent-nats-credentials.ts). */
export interface AgentCredentialIssuer {
  /** A new user for `agentId`, accepted by the bus when this resolves; its mbus URL. */
  issue(agentId: string, signal: AbortSignal): Promise<{ user: AgentNatsUser; mbus: string }>;
  bindVm(agentId: string, vmCid: string): Promise<void>;
  revokeAgent(agentId: string): Promise<void>;
  revokeVm(vmCid: string): Promise<void>;
}

type Hash = Record<string, unknown>;
const asHash = (value: unknown): Hash =>
  typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Hash) : {};

/**
 * `env` with the agent's own bus URL as `bosh.mbus.urls` (the agent prefers it over the CPI's
 * `mbus`, reference §2.3), the rest of `env.bosh.mbus` (e.g. `cert`) kept.
 */
export function envWithAgentMbus(env: unknown, mbus: string): Hash {
  const base = asHash(env);
  const bosh = asHash(base.bosh);
  return { ...base, bosh: { ...bosh, mbus: { ...asHash(bosh.mbus), urls: [mbus] } } };
}

/**
 * The CPI as every director path sees it, giving each VM its own NATS identity: every
 * `create_vm` (instances, compilation, cck and resurrection recreates, reload fallbacks) first
 * gets a user scoped to its agent id and passes it in `env.bosh.mbus.urls`; the user is bound
 * to the CID the CPI answers, and revoked when `create_vm` fails or `delete_vm` succeeds (or
 * the CPI no longer knows the VM).
 */
export class AgentCredentialsCloud implements Cloud {
  readonly #inner: Cloud;
  readonly #issuer: AgentCredentialIssuer;

  constructor(inner: Cloud, issuer: AgentCredentialIssuer) {
    this.#inner = inner;
    this.#issuer = issuer;
  }

  get name(): string {
    return this.#inner.name;
  }

  info(options: CpiCallOptions): Promise<CpiInfo> {
    return this.#inner.info(options);
  }

  async call(method: string, args: readonly unknown[], options: CpiCallOptions): Promise<unknown> {
    if (method === 'create_vm') return this.#createVm(args, options);
    if (method === 'delete_vm') return this.#deleteVm(args, options);
    return this.#inner.call(method, args, options);
  }

  async #createVm(args: readonly unknown[], options: CpiCallOptions): Promise<unknown> {
    const agentId = args[0];
    if (typeof agentId !== 'string') return this.#inner.call('create_vm', args, options);
    const { mbus } = await this.#issuer.issue(agentId, options.signal);
    const withMbus = [...args];
    withMbus[5] = envWithAgentMbus(args[5], mbus);
    let answered: unknown;
    try {
      answered = await this.#inner.call('create_vm', withMbus, options);
    } catch (error) {
      await this.#issuer.revokeAgent(agentId).catch(() => undefined);
      throw error;
    }
    const cid = Array.isArray(answered) ? (answered as unknown[])[0] : answered;
    if (typeof cid === 'string' && cid !== '') await this.#issuer.bindVm(agentId, cid);
    return answered;
  }

  async #deleteVm(args: readonly unknown[], options: CpiCallOptions): Promise<unknown> {
    const cid = args[0];
    try {
      const answered = await this.#inner.call('delete_vm', args, options);
      if (typeof cid === 'string') await this.#issuer.revokeVm(cid);
      return answered;
    } catch (error) {
      const gone = error instanceof CpiCallError && error.cpiErrorType === CpiErrorType.VMNotFound;
      if (gone && typeof cid === 'string') await this.#issuer.revokeVm(cid);
      throw error;
    }
  }
}
