import type {
  AgentMethod,
  AgentMethodArgs,
  AgentMethodResult,
  UpdateRootfsOptions,
  UpdateRootfsProgress,
} from '@refit/protocol';
import type { CallLog, FakeAgentClient, FakeClock } from '@refit/testkit/updater-fakes/index.ts';
import type { AgentCallOptions, AgentClient, AgentWaitOptions } from '../../agent-client/agent-client.ts';

/**
 * The updater fakes' agents plus what an OS reload needs: `update_rootfs` (its args logged, a
 * `:force` suffix for `{force: true}`; optional progress reports, the fake clock advancing
 * between them), `reboot`, and a booted stemcell in `get_state` (with boot ids when asked).
 */
export class ReloadingAgents implements AgentClient {
  readonly #inner: FakeAgentClient;
  readonly #log: CallLog;
  readonly booted = new Map<string, string>();
  readonly #staged = new Map<string, string>();
  readonly #down = new Map<string, number>();
  readonly #boots = new Map<string, number>();
  /** Agents whose VM comes back on its previous root after the reboot. */
  readonly fallsBack = new Set<string>();
  /** Agents whose `reboot` answers but that never reboot. */
  readonly neverReboots = new Set<string>();
  /** The agent's downtime falls inside one get_state call (its retries), never failing one. */
  slowReboot = false;
  /** get_state reports a `boot_id` that changes at every reboot. */
  bootIds = false;
  /** Get_state calls that time out after a reboot (the VM down). */
  downPolls = 2;
  /** The options of every update_rootfs call, in order. */
  readonly stagingOptions: (UpdateRootfsOptions | undefined)[] = [];
  /** The version update_rootfs stages. */
  stagedVersion = '1.2';
  /** Progress update_rootfs reports through onProgress, `stepMs` of fake time apart. */
  stagingReports: readonly UpdateRootfsProgress[] = [];
  stepMs = 100;
  readonly clock: FakeClock;

  constructor(inner: FakeAgentClient, log: CallLog, clock: FakeClock) {
    this.#inner = inner;
    this.#log = log;
    this.clock = clock;
  }

  async call<M extends AgentMethod>(
    agentId: string,
    method: M,
    args: AgentMethodArgs<M>,
    options?: AgentCallOptions,
  ): Promise<AgentMethodResult<M>> {
    if (method === 'update_rootfs') {
      const [id, digest, opts] = args as [string, string, UpdateRootfsOptions | undefined];
      const version = opts?.version === undefined ? '' : `@${opts.version}`;
      const allow = opts?.allow_downgrade === true ? ':allow_downgrade' : '';
      this.stagingOptions.push(opts);
      this.#log.add(
        `agent:${agentId}:update_rootfs:${id},${digest}${version}${allow}${opts?.force === true ? ':force' : ''}`,
      );
      for (const report of this.stagingReports) {
        await this.clock.sleep(this.stepMs, AbortSignal.timeout(1000));
        options?.onProgress?.(report);
      }
      this.#staged.set(agentId, this.stagedVersion);
      return {
        version: this.stagedVersion,
        sha256: 'a'.repeat(64),
        staged_root: `/var/vcap/data/rootfs/roots/${'a'.repeat(64)}`,
        already_staged: false,
        bytes_fetched: 5000,
      } as AgentMethodResult<M>;
    }
    if (method === 'reboot') {
      this.#log.add(`agent:${agentId}:reboot`);
      if (this.neverReboots.has(agentId)) return 'rebooting' as AgentMethodResult<M>;
      this.#down.set(agentId, this.downPolls);
      this.#boots.set(agentId, (this.#boots.get(agentId) ?? 1) + 1);
      this.booted.set(agentId, this.fallsBack.has(agentId) ? '1.1' : (this.#staged.get(agentId) ?? '1.1'));
      return 'rebooting' as AgentMethodResult<M>;
    }
    if (method === 'get_state') {
      const down = this.#down.get(agentId) ?? 0;
      if (down > 0 && this.slowReboot) {
        // Down for a while, answered once the client's retries reached the rebooted agent.
        this.#down.set(agentId, 0);
        this.#log.add(`agent:${agentId}:get_state:timeout`);
        await this.clock.sleep(4500, AbortSignal.timeout(1000));
      } else if (down > 0) {
        this.#down.set(agentId, down - 1);
        this.#log.add(`agent:${agentId}:get_state:timeout`);
        throw new Error('timed out');
      }
      const state = (await this.#inner.call(agentId, 'get_state', [], options)) as object;
      const version = this.booted.get(agentId) ?? '1.1';
      return {
        ...state,
        stemcell: {
          name: 'refit-ubuntu-jammy',
          version,
          root_digest: version === '1.2' ? 'a'.repeat(64) : undefined,
          ...(this.bootIds ? { boot_id: `boot-${this.#boots.get(agentId) ?? 1}` } : {}),
        },
      } as AgentMethodResult<M>;
    }
    return this.#inner.call(agentId, method, args, options);
  }

  waitUntilReady(agentId: string, vmCid: string, options?: AgentWaitOptions): Promise<void> {
    return this.#inner.waitUntilReady(agentId, vmCid, options);
  }
}
