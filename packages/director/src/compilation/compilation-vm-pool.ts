import { randomUUID } from 'node:crypto';
import { CpiErrorType } from '@refit/protocol';
import type { AgentClient } from '../agent-client/agent-client.ts';
import { CpiCallError } from '../cpi-client/cpi-call-error.ts';
import type { Cloud, CpiCallLog } from '../cpi-client/cloud.ts';
import type { Db } from '../db/db.ts';
import type { CompiledCloudConfig, Hash } from '../manifests/compile-cloud-config.ts';
import { DbIpReservationStore } from '../networking/index.ts';
import { deepMerge } from '../planner/deep-equal.ts';
import type { StemcellRecord } from '../stemcells/stemcell-store.ts';
import { cpiNetworks, vmCidOf } from '../updater/create-vm-step.ts';
import { compilationNetwork } from './compilation-network.ts';
import { CompilationVmStore, type CompilationVmRecord } from './compilation-vm-store.ts';
import { PackageCompilationFailed } from './package-compilation-failed.ts';

export interface CompilationVmDeps {
  readonly db: Db;
  readonly cloud: Cloud;
  readonly agents: AgentClient;
  readonly cpiLog: CpiCallLog;
  readonly signal: AbortSignal;
  readonly agentEnv: Hash;
  readonly directorName: string;
  readonly agentWaitTimeoutMs?: number;
}

export interface CompilationVm extends CompilationVmRecord {
  /** The stemcell it runs (a VM is reused only for packages of the same stemcell). */
  readonly stemcellCid: string;
}

const DELETE_TIMEOUT_MS = 120_000;

/**
 * The compilation VMs of one deploy (cloud config `compilation`). Without
 * `reuse_compilation_vms` every package gets a fresh VM, deleted after it; with it, a VM goes
 * back to the pool after a successful compilation and later packages of the same stemcell use
 * it, at most `workers` VMs in all (an idle VM of another stemcell is deleted to make room);
 * `deleteAll` removes them at the end. A VM whose compilation failed is never reused. Every VM
 * is recorded in `compilation_vms` from `create_vm` until `delete_vm`.
 */
export class CompilationVmPool {
  readonly #deps: CompilationVmDeps;
  readonly #cloudConfig: CompiledCloudConfig;
  readonly #deployment: string;
  readonly #store: CompilationVmStore;
  readonly #idle: CompilationVm[] = [];
  #inUse = 0;
  /** Address reservations one at a time: two VMs must not pick the same free IP. */
  #reserving: Promise<unknown> = Promise.resolve();

  constructor(deps: CompilationVmDeps, cloudConfig: CompiledCloudConfig, deployment: string) {
    this.#deps = deps;
    this.#cloudConfig = cloudConfig;
    this.#deployment = deployment;
    this.#store = new CompilationVmStore(deps.db);
  }

  get #reuse(): boolean {
    return this.#cloudConfig.compilation?.reuseCompilationVms ?? false;
  }

  get #workers(): number {
    return Math.max(1, this.#cloudConfig.compilation?.workers ?? 1);
  }

  /** Runs `fn` on a compilation VM for `stemcell` (created, or reused from the pool). */
  async withVm<T>(
    stemcell: StemcellRecord,
    packageName: string,
    fn: (vm: CompilationVm) => Promise<T>,
  ): Promise<T> {
    this.#inUse++;
    let vm: CompilationVm | null = null;
    let ok = false;
    try {
      vm = await this.#acquire(stemcell, packageName);
      const result = await fn(vm);
      ok = true;
      return result;
    } finally {
      this.#inUse--;
      if (vm !== null) {
        if (ok && this.#reuse) this.#idle.push(vm);
        else if (ok) await this.#delete(vm);
        else await this.#delete(vm).catch(() => undefined); // the compilation error is the one to report
      }
    }
  }

  /** Deletes every pooled VM (end of compilation, success or not). */
  async deleteAll(): Promise<void> {
    const vms = this.#idle.splice(0);
    const settled = await Promise.allSettled(vms.map((vm) => this.#delete(vm)));
    const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) throw failed.reason;
  }

  async #acquire(stemcell: StemcellRecord, packageName: string): Promise<CompilationVm> {
    if (this.#reuse) {
      const at = this.#idle.findIndex((vm) => vm.stemcellCid === stemcell.cid);
      if (at >= 0) return this.#idle.splice(at, 1)[0] as CompilationVm;
      // Room for one more VM: the busy ones (this one counted) plus the idle ones stay ≤ workers.
      while (this.#idle.length > 0 && this.#inUse + this.#idle.length > this.#workers) {
        const other = this.#idle.shift();
        if (other) await this.#delete(other);
      }
    }
    return this.#create(stemcell, packageName);
  }

  async #create(stemcell: StemcellRecord, packageName: string): Promise<CompilationVm> {
    const deps = this.#deps;
    const compilation = this.#cloudConfig.compilation;
    if (compilation === null)
      throw new PackageCompilationFailed(
        'cloud config has no compilation block: packages cannot be compiled',
      );
    const instanceId = `compilation-${randomUUID()}`;
    const reserved = this.#reserving.then(() =>
      compilationNetwork(deps.db, this.#cloudConfig, this.#deployment, instanceId),
    );
    this.#reserving = reserved.catch(() => undefined);
    const network = await reserved;
    const azProps =
      compilation.az === null ? {} : (this.#cloudConfig.azs.get(compilation.az)?.cloudProperties ?? {});
    const vmProps =
      compilation.vmType !== null
        ? (this.#cloudConfig.vmTypes.get(compilation.vmType)?.cloudProperties ?? {})
        : compilation.cloudProperties;
    const agentId = randomUUID();
    const cpiOptions = {
      signal: deps.signal,
      log: deps.cpiLog,
      ...(stemcell.apiVersion !== null ? { stemcellApiVersion: stemcell.apiVersion } : {}),
    };
    let vm: CompilationVm | null = null;
    try {
      const created = await deps.cloud.call(
        'create_vm',
        [
          agentId,
          stemcell.cid,
          deepMerge(azProps, vmProps),
          cpiNetworks(network),
          [],
          { ...compilation.env, bosh: { ...deps.agentEnv } },
        ],
        cpiOptions,
      );
      vm = {
        cid: vmCidOf(created),
        deployment: this.#deployment,
        agentId,
        instanceId,
        stemcellCid: stemcell.cid,
      };
      await this.#store.add(vm);
      await deps.cloud.call(
        'set_vm_metadata',
        [vm.cid, { director: deps.directorName, deployment: this.#deployment, compiling: packageName }],
        cpiOptions,
      );
      await deps.agents.waitUntilReady(agentId, vm.cid, {
        signal: deps.signal,
        timeoutMs: deps.agentWaitTimeoutMs ?? 600_000,
      });
      return vm;
    } catch (error) {
      if (vm !== null) await this.#delete(vm).catch(() => undefined);
      else await new DbIpReservationStore(deps.db).releaseInstance(this.#deployment, instanceId);
      throw error;
    }
  }

  async #delete(vm: CompilationVmRecord): Promise<void> {
    await deleteCompilationVm(this.#deps, vm);
  }
}

/**
 * `delete_vm` (a VM the CPI no longer knows counts as deleted), then the record and the IP
 * reservation go. The record stays when `delete_vm` fails, so a later deploy tries again.
 */
export async function deleteCompilationVm(
  deps: Pick<CompilationVmDeps, 'db' | 'cloud' | 'cpiLog'>,
  vm: CompilationVmRecord,
): Promise<void> {
  try {
    await deps.cloud.call('delete_vm', [vm.cid], {
      signal: AbortSignal.timeout(DELETE_TIMEOUT_MS),
      log: deps.cpiLog,
    });
  } catch (error) {
    if (!(error instanceof CpiCallError && error.cpiErrorType === CpiErrorType.VMNotFound)) throw error;
  }
  await new CompilationVmStore(deps.db).remove(vm.cid);
  await new DbIpReservationStore(deps.db).releaseInstance(vm.deployment, vm.instanceId);
}

/** Deletes the compilation VMs an earlier deploy of `deployment` left (director killed, …). */
export async function deleteLeftoverCompilationVms(
  deps: Pick<CompilationVmDeps, 'db' | 'cloud' | 'cpiLog'>,
  deployment: string,
): Promise<number> {
  const leftovers = await new CompilationVmStore(deps.db).forDeployment(deployment);
  for (const vm of leftovers) await deleteCompilationVm(deps, vm);
  return leftovers.length;
}
