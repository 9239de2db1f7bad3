import type { AgentMethod, AgentMethodArgs, AgentMethodResult } from '@refit/protocol';
import { DirectorError } from '../errors.ts';

export interface AgentCallOptions {
  /** Aborts the call: a running async action is asked to `cancel_task`, polling stops. */
  readonly signal?: AbortSignal;
  /** How long to wait for each reply (the first one and every `get_task`); default 45 s. */
  readonly replyTimeoutMs?: number;
  /**
   * An asynchronous action's `progress` (what its running `get_task` answers carry), at every
   * poll that has one. Called synchronously: keep it cheap, rate-limit what it emits.
   */
  readonly onProgress?: (progress: unknown) => void;
}

export interface AgentWaitOptions {
  readonly signal?: AbortSignal;
  /** BOSH's `agent_wait_timeout`; default 600 s. */
  readonly timeoutMs?: number;
}

/**
 * The director's side of the agent protocol (reference §3.1), the port the updater, the
 * compiler and cloud check use. Adapters: `NatsAgentClient`; `FakeAgentClient` in testkit.
 *
 * ```ts
 * await agents.waitUntilReady(agentId, vmCid, { signal });
 * const state = await agents.call(agentId, 'get_state', ['full'], { signal }); // AgentStateValue
 * const seconds = await agents.call(agentId, 'drain', ['update', spec], { signal }); // number
 * await agents.call(agentId, 'apply', [spec], { signal }); // async: polled with get_task
 * ```
 */
export interface AgentClient {
  /**
   * Sends one action and resolves with its final value, parsed with the method's result schema.
   * An asynchronous answer (`{agent_task_id, state: "running"}`) is followed with `get_task`
   * until it ends: first after 50 ms, then at twice the previous interval up to 1 s (BOSH's
   * fixed interval), so a short task costs tens of ms and a long one at most a poll a second. Timeouts are retried as BOSH does (`get_state` ×2,
   * `get_task` ×4).
   *
   * Throws `AgentError` when the agent answers an exception (its message kept),
   * `AgentTimeoutError` when a reply does not come in time, the signal's reason when aborted.
   */
  call<M extends AgentMethod>(
    agentId: string,
    method: M,
    args: AgentMethodArgs<M>,
    options?: AgentCallOptions,
  ): Promise<AgentMethodResult<M>>;

  /**
   * BOSH's `wait_until_ready`: pings with a 1 s timeout until the agent answers `pong` or the
   * deadline passes, then throws `AgentTimeoutError`
   * "Timed out pinging VM '<cid>' with agent '<agent_id>' after N seconds".
   */
  waitUntilReady(agentId: string, vmCid: string, options?: AgentWaitOptions): Promise<void>;
}

/** The agent answered `{"exception": {"message": …}}` (BOSH's RpcRemoteException). */
export class AgentError extends DirectorError {
  static readonly code = 450001;
  readonly agentId: string;
  readonly method: string;
  constructor(agentId: string, method: string, message: string, options?: ErrorOptions) {
    super(450001, 500, message, options);
    this.agentId = agentId;
    this.method = method;
  }
}

/** No reply in time (BOSH's RpcTimeout). */
export class AgentTimeoutError extends DirectorError {
  static readonly code = 450002;
  readonly agentId: string;
  readonly method: string;
  constructor(agentId: string, method: string, message: string, options?: ErrorOptions) {
    super(450002, 500, message, options);
    this.agentId = agentId;
    this.method = method;
  }
}
