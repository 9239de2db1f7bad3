import type { AgentMethod, AgentMethodArgs, AgentMethodResult, AgentStateValue } from '@refit/protocol';
import {
  AgentError,
  type AgentCallOptions,
  type AgentClient,
  type AgentWaitOptions,
} from '@refit/director/agent-client/agent-client.ts';
import type { CallLog } from './call-log.ts';

/**
 * Agents that answer at once, for updater unit tests. Each call goes to the log as
 * `agent:<agentId>:<method>` (`run_script` with its script, `drain` with its type).
 * `failingJobs(agentId)` makes that agent's jobs never reach `running`.
 */
export class FakeAgentClient implements AgentClient {
  readonly #log: CallLog;
  readonly #failing = new Set<string>();
  /** Every call with its arguments, in order. */
  readonly calls: { agentId: string; method: string; args: readonly unknown[] }[] = [];
  /** Seconds `drain` answers (negative: dynamic drain, then `status` answers 0). */
  drainSeconds = 0;
  failCall: ((agentId: string, method: string) => boolean) | null = null;
  /** What `list_disk` answers per agent (the disks it has mounted, the store's first); [] unset. */
  readonly mountedDisks = new Map<string, string[]>();

  constructor(log: CallLog) {
    this.#log = log;
  }

  failingJobs(agentId: string): void {
    this.#failing.add(agentId);
  }

  call<M extends AgentMethod>(
    agentId: string,
    method: M,
    args: AgentMethodArgs<M>,
    options?: AgentCallOptions,
  ): Promise<AgentMethodResult<M>> {
    options?.signal?.throwIfAborted();
    const list = args as readonly unknown[];
    const detail = method === 'run_script' || method === 'drain' ? `:${String(list[0])}` : '';
    this.#log.add(`agent:${agentId}:${method}${detail}`);
    this.calls.push({ agentId, method, args: list });
    if (this.failCall?.(agentId, method)) {
      return Promise.reject(new AgentError(agentId, method, `fake ${method} failure`));
    }
    let value: unknown = null;
    if (method === 'drain') value = list[0] === 'status' ? 0 : this.drainSeconds;
    else if (method === 'get_state') value = this.#state(agentId);
    else if (method === 'list_disk') value = [...(this.mountedDisks.get(agentId) ?? [])];
    else if (method === 'migrate_disk') value = { mounted: list[1] };
    return Promise.resolve(value as AgentMethodResult<M>);
  }

  waitUntilReady(agentId: string, vmCid: string, options?: AgentWaitOptions): Promise<void> {
    options?.signal?.throwIfAborted();
    this.#log.add(`agent:${agentId}:ping:${vmCid}`);
    return Promise.resolve();
  }

  #state(agentId: string): AgentStateValue {
    const failing = this.#failing.has(agentId);
    return {
      agent_id: agentId,
      job: { templates: [] },
      networks: {},
      packages: {},
      persistent_disk: 0,
      job_state: failing ? 'failing' : 'running',
      processes: [{ name: 'server', state: failing ? 'failing' : 'running' }],
      vm: { name: 'fake' },
    };
  }
}
