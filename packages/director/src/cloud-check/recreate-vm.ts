import { parse } from 'yaml';
import { CpiErrorType } from '@refit/protocol';
import { CpiCallError } from '../cpi-client/cpi-call-error.ts';
import { DeploymentStore, type InstanceRecord } from '../deployments/deployment-store.ts';
import type { Db } from '../db/db.ts';
import { DirectorError } from '../errors.ts';
import type { WatchTimes } from '../manifests/update-config.ts';
import { Change, type InstancePlan } from '../planner/plan-types.ts';
import { StemcellStore } from '../stemcells/stemcell-store.ts';
import { detachDiskStep } from '../updater/disk-steps.ts';
import { cpiCall, instanceLabel, silentProgress } from '../updater/instance-label.ts';
import { deleteVmStep, updateInstance } from '../updater/update-instance.ts';
import type { UpdaterDeps } from '../updater/updater-ports.ts';
import type { ApplySpec } from '@refit/protocol';

/** The VM's stemcell is no longer uploaded: a new VM cannot be made from it. */
export class RecreateStemcellMissing extends DirectorError {
  static readonly code = 470010;
  constructor(message: string) {
    super(470010, 400, message);
  }
}

/** A resolution that cannot be carried out as things are (BOSH's ProblemHandlerError). */
export class ProblemHandlerError extends DirectorError {
  static readonly code = 470001;
  constructor(message: string) {
    super(470001, 400, message);
  }
}

/** `update_watch_time` of the instance's group (or the deployment's) in the stored manifest. */
export function watchTimesFor(manifest: string | null, group: string): WatchTimes {
  const fallback: WatchTimes = { minMs: 1000, maxMs: 30_000 };
  if (manifest === null) return fallback;
  const doc = parse(manifest) as {
    update?: { update_watch_time?: unknown };
    instance_groups?: { name?: string; update?: { update_watch_time?: unknown } }[];
  } | null;
  const own = doc?.instance_groups?.find((g) => g.name === group)?.update?.update_watch_time;
  const value = own ?? doc?.update?.update_watch_time;
  if (typeof value === 'number') return { minMs: value, maxMs: value };
  if (typeof value === 'string') {
    const [min, max] = value.split('-').map((v) => Number(v.trim()));
    if (min !== undefined && Number.isFinite(min))
      return { minMs: min, maxMs: max !== undefined && Number.isFinite(max) ? max : min };
  }
  return fallback;
}

/**
 * Cloud check's `recreate_vm` (reference §4.8): the old VM goes from the cloud (if it is still
 * there), then the updater's own steps make a new VM from the instance's stored spec — the
 * stemcell the VM ran (the new one after an OS reload), its cloud properties, env and networks
 * — re-attach its persistent disk, apply the stored apply spec and start the jobs. With
 * `wait: false` the jobs are started without waiting for them to run.
 */
export async function recreateVm(
  db: Db,
  updater: UpdaterDeps,
  instance: InstanceRecord,
  options: { readonly wait: boolean },
): Promise<void> {
  const vm = instance.vm;
  const label = instanceLabel(instance);
  if (vm === null) throw new ProblemHandlerError(`VM for '${label}' is no longer in the database`);
  if (instance.applySpec === null)
    throw new ProblemHandlerError(`'${label}' was never deployed: there is no spec to recreate its VM from`);
  const stemcell = await new StemcellStore(db).find(
    vm.stemcell.name,
    vm.stemcell.version,
    updater.cloud.name,
  );
  if (stemcell === null) {
    throw new RecreateStemcellMissing(
      `Cannot recreate VM for '${label}': stemcell '${vm.stemcell.name}/${vm.stemcell.version}' it runs is no longer uploaded; upload it again first`,
    );
  }
  const deployment = await new DeploymentStore(db).get(instance.deployment);
  const plan: InstancePlan = {
    id: instance.id,
    group: instance.group,
    index: instance.index,
    az: instance.az,
    action: 'recreate',
    changes: new Set([Change.recreate]),
    needsRecreate: true,
    needsShuttingDown: true,
    stemcellStrategy: null,
    desiredState: options.wait ? instance.state : 'stopped',
    canary: false,
    // The old VM is dealt with below: the updater sees an instance without one.
    existing: { ...instance, vm: null, agentResponsive: false },
    migratedFrom: null,
    stemcell: {
      alias: '',
      name: stemcell.name,
      version: stemcell.version,
      operatingSystem: stemcell.operatingSystem,
    },
    cloudProperties: vm.cloudProperties,
    env: vm.env,
    networkSettings: vm.networkSettings,
    persistentDisk: instance.disk
      ? { size: instance.disk.size, cloudProperties: instance.disk.cloudProperties }
      : null,
    tags: instance.tags ?? {},
    skipDrain: true,
  };

  const exists = await cpiCall(updater, 'has_vm', [vm.cid]);
  if (exists !== false) {
    if (instance.disk !== null) {
      try {
        await detachDiskStep(updater, plan, vm, instance.disk.cid, false);
      } catch {
        // The VM is going away; a disk it no longer holds is fine.
      }
    }
    await deleteVmStep(updater, plan, vm.cid);
  } else {
    // As BOSH: the cloud is still asked to delete it (a VM the IaaS lost may leave records
    // behind, its disk attached to it), and only "not found" is fine.
    try {
      await cpiCall(updater, 'delete_vm', [vm.cid]);
    } catch (error) {
      if (!(error instanceof CpiCallError && error.cpiErrorType === CpiErrorType.VMNotFound)) throw error;
    }
    await updater.store.vmDeleted(instance.id, vm.cid);
    await updater.record({
      action: 'delete',
      objectType: 'vm',
      objectName: vm.cid,
      instance: `${instance.group}/${instance.id}`,
    });
  }

  await updateInstance(
    updater,
    {
      plan,
      applySpec: instance.applySpec as unknown as ApplySpec,
      hashes: instance.hashes,
      stemcellCid: stemcell.cid,
      stemcellApiVersion: stemcell.apiVersion,
    },
    { watch: watchTimesFor(deployment?.manifest ?? null, instance.group), precreated: null },
    silentProgress,
  );
  if (!options.wait && instance.state === 'started') {
    // Without waiting: pre-start and start, no watch, no post-start.
    const created = (await new DeploymentStore(db).instances(instance.deployment)).find(
      (i) => i.id === instance.id,
    );
    const agentId = created?.vm?.agentId;
    if (agentId === undefined)
      throw new ProblemHandlerError(`VM for '${label}' vanished while it was recreated`);
    const call = { signal: updater.signal };
    await updater.agents.call(agentId, 'run_script', ['pre-start', { env: {} }], call);
    await updater.agents.call(agentId, 'start', [], call);
    await new DeploymentStore(db).setState(instance.id, 'started');
  }
}
