// The updater's testkit fakes taught the two CPI and agent answers a scan needs, for the cloud
// check feature test.
import {
  CpiErrorType,
  type AgentMethod,
  type AgentMethodArgs,
  type AgentMethodResult,
} from '@refit/protocol';
import { FakeAgentClient, FakeCloud } from '@refit/testkit/updater-fakes/index.ts';
import { AgentTimeoutError, type AgentCallOptions } from '../agent-client/agent-client.ts';
import { CpiCallError, CpiFailureKind } from '../cpi-client/cpi-call-error.ts';
import type { InstancePlan } from '../planner/plan-types.ts';

/**
 * The updater's fake CPI, answering has_vm / has_disk from what it holds; delete_vm of a VM it
 * does not hold fails with VMNotFound, as a real CPI's does.
 */
export class ScanCloud extends FakeCloud {
  override call(method: string, args: readonly unknown[], options: Parameters<FakeCloud['call']>[2]) {
    if (method === 'delete_vm' && !this.vms.has(String(args[0]))) {
      return super.call(method, args, options).then(() => {
        throw new CpiCallError(`VM '${String(args[0])}' not found`, {
          kind: CpiFailureKind.CpiError,
          method,
          requestId: null,
          cpiErrorType: CpiErrorType.VMNotFound,
        });
      });
    }
    if (method === 'has_vm')
      return super.call(method, args, options).then(() => this.vms.has(String(args[0])));
    if (method === 'has_disk')
      return super.call(method, args, options).then(() => this.disks.has(String(args[0])));
    return super.call(method, args, options);
  }
}

/** The updater's fake agents; `silent` ones never answer, `disks` is what list_disk says. */
export class ScanAgents extends FakeAgentClient {
  readonly silent = new Set<string>();
  readonly disks = new Map<string, string[]>();
  override call<M extends AgentMethod>(
    agentId: string,
    method: M,
    args: AgentMethodArgs<M>,
    options?: AgentCallOptions,
  ): Promise<AgentMethodResult<M>> {
    if (this.silent.has(agentId)) return Promise.reject(new AgentTimeoutError(agentId, method, 'timed out'));
    if (method === 'list_disk') {
      void super.call(agentId, method, args, options);
      return Promise.resolve((this.disks.get(agentId) ?? []) as AgentMethodResult<M>);
    }
    return super.call(agentId, method, args, options);
  }
}

export const instancePlan = (id: string, index: number) =>
  ({ id, group: 'web', index, az: 'z1', desiredState: 'started', tags: {} }) as unknown as InstancePlan;
