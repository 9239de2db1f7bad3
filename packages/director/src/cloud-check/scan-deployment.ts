import type { AgentClient } from '../agent-client/agent-client.ts';
import { AgentTimeoutError } from '../agent-client/agent-client.ts';
import type { Cloud, CpiCallLog } from '../cpi-client/cloud.ts';
import type { InstanceRecord } from '../deployments/deployment-store.ts';
import { DeploymentStore } from '../deployments/deployment-store.ts';
import type { Db } from '../db/db.ts';
import type { EventLog } from '../tasks/task-context.ts';
import { runPool } from '../updater/run-pool.ts';
import { ProblemStore } from './problem-store.ts';

/** BOSH's scan waits 10 s for `get_state` (vm_scan_stage.rb, no retry). */
export const AGENT_SCAN_TIMEOUT_MS = 10_000;
/** Instances (and disks) checked at once (BOSH's max_threads). */
const SCAN_THREADS = 32;

export interface ScanDeps {
  readonly db: Db;
  readonly cloud: Cloud;
  readonly agents: AgentClient;
  readonly events: EventLog;
  readonly cpiLog: CpiCallLog;
  readonly signal: AbortSignal;
  readonly agentTimeoutMs?: number;
}

export interface ScanSummary {
  readonly vms: { ok: number; unresponsive: number; missing: number; unbound: number };
  readonly disks: { ok: number; missing: number; inactive: number; mountInfoMismatch: number };
  readonly problems: readonly number[];
}

/** An instance group and a uuid or index, as `scan_and_fix` names instances. */
export interface InstanceSelector {
  readonly group: string;
  readonly idOrIndex: string;
}

export function selectInstances(
  instances: readonly InstanceRecord[],
  selectors: readonly InstanceSelector[] | null,
): InstanceRecord[] {
  if (selectors === null) return [...instances];
  return instances.filter((i) =>
    selectors.some((s) => s.group === i.group && (s.idOrIndex === i.id || s.idOrIndex === String(i.index))),
  );
}

/**
 * BOSH's problem scanner (reference §4.8): `Scanning <n> VMs` asks every instance expecting a
 * VM for `get_state` (10 s) and `list_disk`; an agent that does not answer is `missing_vm` when
 * the CPI's `has_vm` says no, else `unresponsive_agent`. `Scanning <n> persistent disks` asks
 * `has_disk` for each active disk and compares where agents say it is mounted with the records;
 * each inactive disk (a migration the director did not finish) is an `inactive_disk`.
 */
export async function scanDeployment(
  deps: ScanDeps,
  deployment: string,
  selectors: readonly InstanceSelector[] | null,
): Promise<ScanSummary> {
  const store = new DeploymentStore(deps.db);
  const problems = new ProblemStore(deps.db);
  const all = await store.instances(deployment);
  const chosen = selectInstances(all, selectors);
  await problems.reset(deployment, selectors === null ? null : chosen.map((i) => i.id));
  const expecting = chosen.filter((i) => i.state !== 'detached');
  const found: number[] = [];
  const vms = { ok: 0, unresponsive: 0, missing: 0, unbound: 0 };
  const owners = new Map<string, string[]>();

  const vmStage = deps.events.stage(`Scanning ${expecting.length} VMs`, { total: 2 });
  await vmStage.task('Checking VM states', async () => {
    await runPool(expecting, SCAN_THREADS, async (instance) => {
      const result = await scanVm(deps, instance, owners);
      vms[result]++;
      if (result === 'missing' || result === 'unresponsive') {
        const type = result === 'missing' ? 'missing_vm' : 'unresponsive_agent';
        found.push(
          await problems.found(deployment, { type, resourceId: instance.id, instanceId: instance.id }),
        );
      }
    });
  });
  await vmStage.task(
    `${vms.ok} OK, ${vms.unresponsive} unresponsive, ${vms.missing} missing, ${vms.unbound} unbound`,
    () => Promise.resolve(),
  );

  const disks = { ok: 0, missing: 0, inactive: 0, mountInfoMismatch: 0 };
  const withDisks = chosen.filter((i) => i.disk !== null);
  const chosenIds = new Set(chosen.map((i) => i.id));
  const inactive = (await store.inactiveDisks(deployment)).filter((d) => chosenIds.has(d.instanceId));
  const diskStage = deps.events.stage(`Scanning ${withDisks.length + inactive.length} persistent disks`, {
    total: 2,
  });
  await diskStage.task('Looking for inactive disks', async () => {
    // The new disk of a migration a dead director left (BOSH reports an inactive disk as such,
    // before any other check of it).
    for (const { instanceId, disk } of inactive) {
      disks.inactive++;
      found.push(
        await problems.found(deployment, {
          type: 'inactive_disk',
          resourceId: disk.cid,
          instanceId,
          data: { disk_cid: disk.cid },
        }),
      );
    }
    await runPool(withDisks, SCAN_THREADS, async (instance) => {
      const disk = instance.disk;
      if (disk === null) return;
      const exists = await deps.cloud.call('has_disk', [disk.cid], {
        signal: deps.signal,
        log: deps.cpiLog,
      });
      if (exists === false) {
        disks.missing++;
        found.push(
          await problems.found(deployment, {
            type: 'missing_disk',
            resourceId: disk.cid,
            instanceId: instance.id,
            data: { disk_cid: disk.cid },
          }),
        );
        return;
      }
      const vmCid = instance.vm?.cid ?? null;
      if (vmCid === null) {
        disks.ok++;
        return;
      }
      const ownerVms = owners.get(disk.cid) ?? [];
      if (ownerVms.length !== 1 || ownerVms[0] !== vmCid) {
        disks.mountInfoMismatch++;
        found.push(
          await problems.found(deployment, {
            type: 'mount_info_mismatch',
            resourceId: disk.cid,
            instanceId: instance.id,
            data: { owner_vms: ownerVms, disk_cid: disk.cid },
          }),
        );
        return;
      }
      disks.ok++;
    });
  });
  await diskStage.task(
    `${disks.ok} OK, ${disks.missing} missing, ${disks.inactive} inactive, ${disks.mountInfoMismatch} mount-info mismatch`,
    () => Promise.resolve(),
  );
  return { vms, disks, problems: found };
}

async function scanVm(
  deps: ScanDeps,
  instance: InstanceRecord,
  owners: Map<string, string[]>,
): Promise<'ok' | 'unresponsive' | 'missing'> {
  const vm = instance.vm;
  const addOwner = (diskCid: string, vmCid: string) =>
    owners.set(diskCid, [...(owners.get(diskCid) ?? []), vmCid]);
  if (vm === null) return 'missing';
  const timeoutMs = deps.agentTimeoutMs ?? AGENT_SCAN_TIMEOUT_MS;
  const ask = async <T>(fn: (signal: AbortSignal) => Promise<T>): Promise<T | typeof unanswered> => {
    const timeout = AbortSignal.timeout(timeoutMs);
    try {
      return await fn(AbortSignal.any([deps.signal, timeout]));
    } catch (error) {
      deps.signal.throwIfAborted();
      if (error instanceof AgentTimeoutError || timeout.aborted) return unanswered;
      throw error;
    }
  };
  const state = await ask((signal) =>
    deps.agents.call(vm.agentId, 'get_state', [], { signal, replyTimeoutMs: timeoutMs }),
  );
  if (state === unanswered) {
    // The disk the records say it has counts as mounted there: no second problem for one VM.
    if (instance.disk !== null) addOwner(instance.disk.cid, vm.cid);
    const exists = await deps.cloud.call('has_vm', [vm.cid], { signal: deps.signal, log: deps.cpiLog });
    return exists === false ? 'missing' : 'unresponsive';
  }
  const listed = await ask((signal) =>
    deps.agents.call(vm.agentId, 'list_disk', [], { signal, replyTimeoutMs: timeoutMs }),
  );
  const mounted = listed === unanswered ? undefined : listed[0];
  if (mounted !== undefined) addOwner(mounted, vm.cid);
  return 'ok';
}

const unanswered = Symbol('unanswered');
