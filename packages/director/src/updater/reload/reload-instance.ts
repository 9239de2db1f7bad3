import { DirectorError } from '../../errors.ts';
import type { WatchTimes } from '../../manifests/update-config.ts';
import { Change, type InstancePlan } from '../../planner/plan-types.ts';
import type { StageProgress } from '../../tasks/task-context.ts';
import { cpiCall, instanceLabel } from '../instance-label.ts';
import { startStep } from '../start-step.ts';
import { stopStep } from '../stop-step.ts';
import type { InstanceTarget, StoredVm, UpdaterDeps } from '../updater-ports.ts';
import type { ReloadOutcome, ReloadSource } from './reload-source.ts';
import { stagingProgress } from './staging-progress.ts';
import { waitForBootedVersion } from './wait-for-booted-version.ts';

/** A reload that did not bring the instance to v' with its jobs running. */
export class ReloadFailed extends DirectorError {
  static readonly code = 450010;
  constructor(message: string, options?: ErrorOptions) {
    super(450010, 500, message, options);
  }
}

const mb = (bytes: number) => `${Math.round(bytes / 1e6)} MB`;

/** Agent settings changes the updater sends `update_settings` for (as update-instance.ts does). */
const settingsChanges: ReadonlySet<Change> = new Set([
  Change.trustedCerts,
  Change.blobstoreConfig,
  Change.natsConfig,
]);

/** The instance reloads in place when the plan says so and its jobs are to run (the new root commits only then). */
export function reloadsInPlace(target: InstanceTarget): target is InstanceTarget & { reload: ReloadSource } {
  const { plan } = target;
  return (
    target.reload !== undefined &&
    plan.action === 'recreate' &&
    plan.stemcellStrategy?.strategy === 'reload' &&
    plan.desiredState === 'started' &&
    plan.existing?.state === 'started' &&
    plan.existing.vm !== null
  );
}

/**
 * OS reload of one instance (ARCHITECTURE "OS reload, end to end"): `update_rootfs` while the
 * jobs run → pre-stop (BOSH_VM_NEXT_STATE=keep) → drain `update` → stop → post-stop → `reboot`
 * → the same agent reports v' → `mount_disk` → apply → pre-start → start → watch → post-start.
 * The VM keeps its CID; its row records v' and `set_vm_metadata` tags it. Throws `ReloadFailed`
 * (the cause kept) when any step fails.
 *
 * `recreate --strategy reload` (the plan's changes hold `recreate`) stages with `{force: true}`:
 * the agent unpacks the root again into a fresh directory even when it already runs that
 * version, and the reboot boots the pristine copy. Agent settings the plan changed (trusted
 * certs, blobstore, NATS) are sent with `update_settings` before the reboot, so the new root
 * boots with them. The download's progress shows on the instance's event line. The agent is
 * told the `version` it stages (it refuses an older one than it booted, and a rootfs.MF of
 * another version) and `allow_downgrade` only when the plan's reload is an allowed downgrade.
 */
export async function reloadInstance(
  deps: UpdaterDeps,
  target: InstanceTarget & { reload: ReloadSource },
  watch: WatchTimes,
  progress: StageProgress,
): Promise<ReloadOutcome> {
  const { plan, reload } = target;
  const vm = plan.existing?.vm;
  if (!vm) throw new ReloadFailed(`${instanceLabel(plan)} has no VM to reload`);
  const label = instanceLabel(plan);
  const version = reload.stemcell.version;
  const call = { signal: deps.signal };
  const force = plan.changes.has(Change.recreate);
  let step = 'staging rootfs';
  try {
    progress.status(`staging rootfs ${version} (${mb(reload.size)})${force ? ', restaging in full' : ''}`);
    const staged = await deps.agents.call(
      vm.agentId,
      'update_rootfs',
      [
        reload.blobstoreId,
        reload.digest,
        {
          version,
          ...(force ? { force: true } : {}),
          ...(plan.stemcellStrategy?.downgrade ? { allow_downgrade: true } : {}),
          // A VM that still has this root (a rollback to its previous one) fetches nothing.
          ...(reload.rootSha256 !== undefined ? { root_archive_sha256: reload.rootSha256 } : {}),
        },
      ],
      {
        ...call,
        replyTimeoutMs: 60_000,
        onProgress: stagingProgress(version, progress, () => deps.clock.now()),
      },
    );
    progress.status(
      `staged rootfs ${version} (${mb(staged.bytes_fetched)} of ${mb(reload.size)} fetched${staged.already_staged ? ', already staged' : staged.reused_kept_root === true ? ', the root kept on the VM' : ''})`,
    );
    // What booted before the reboot: the rebooted agent must report another boot.
    const before = await deps.agents.call(vm.agentId, 'get_state', [], call);
    reload.debug?.(
      `reload ${label}: staged ${staged.staged_root} sha256 ${staged.sha256}, ${staged.bytes_fetched} bytes fetched`,
    );

    const downStart = deps.clock.now();
    // Where the downtime goes, for the debug log: each step's ms.
    const steps: string[] = [];
    let stepStart = downStart;
    const enter = (next: string) => {
      const at = deps.clock.now();
      steps.push(`${step} ${at - stepStart}`);
      step = next;
      stepStart = at;
    };
    step = 'stopping';
    await stopStep(
      deps,
      vm.agentId,
      {
        vmNextState: 'keep',
        instanceNextState: 'keep',
        drainType: 'update',
        skipDrain: plan.skipDrain,
        nextSpec: target.applySpec,
      },
      progress,
    );
    await deps.record({
      action: 'stop',
      objectType: 'instance',
      objectName: name(plan),
      instance: name(plan),
    });

    if ([...plan.changes].some((c) => settingsChanges.has(c))) {
      enter('updating agent settings');
      progress.status('updating agent settings');
      await deps.agents.call(vm.agentId, 'update_settings', [{ disk_associations: [] }], call);
    }

    enter('rebooting');
    progress.status('rebooting');
    await deps.agents.call(vm.agentId, 'reboot', [], call);
    enter('waiting for agent');
    progress.status('waiting for agent');
    const booted = await waitForBootedVersion(deps, vm.agentId, {
      version,
      timeoutMs: reload.bootTimeoutMs ?? deps.agentWaitTimeoutMs ?? 600_000,
      before: before.stemcell ?? null,
    });
    const reloaded: StoredVm = { ...vm, stemcell: { name: reload.stemcell.name, version } };
    await deps.store.vmCreated(plan.id, reloaded);
    await cpiCall(deps, 'set_vm_metadata', [
      vm.cid,
      {
        director: 'refit',
        deployment: deps.deployment,
        job: plan.group,
        instance_group: plan.group,
        index: String(plan.index),
        id: plan.id,
        name: name(plan),
        created_at: vm.createdAt,
        ...plan.tags,
        stemcell_name: reload.stemcell.name,
        stemcell_version: version,
        root_digest: booted.root_digest ?? staged.sha256,
      },
    ]);

    const disk = plan.existing?.disk ?? null;
    if (disk !== null) {
      enter('mounting disk');
      progress.status('mounting disk');
      await deps.agents.call(vm.agentId, 'mount_disk', [disk.cid], call);
    }
    enter('applying');
    progress.status('applying');
    await deps.agents.call(vm.agentId, 'apply', [target.applySpec], call);
    enter('starting');
    await startStep(deps, vm.agentId, plan, watch, progress);
    enter('recording');
    const downtimeMs = deps.clock.now() - downStart;
    await deps.record({
      action: 'start',
      objectType: 'instance',
      objectName: name(plan),
      instance: name(plan),
    });
    await deps.store.updateCompleted(plan.id, {
      state: 'started',
      hashes: target.hashes,
      applySpec: target.applySpec,
    });
    const outcome: ReloadOutcome = {
      instance: label,
      strategy: 'reload',
      downtimeMs,
      bytesFetched: staged.bytes_fetched,
      rootDigest: booted.root_digest ?? staged.sha256,
    };
    await deps.record({
      action: 'update',
      objectType: 'instance',
      objectName: name(plan),
      instance: name(plan),
      context: {
        changes: [...plan.changes],
        strategy: 'reload',
        stemcell: `${reload.stemcell.name}/${version}`,
        downtime_ms: downtimeMs,
        bytes_fetched: staged.bytes_fetched,
      },
    });
    reload.debug?.(`reload ${label}: downtime by step (ms): ${steps.join(', ')}`);
    reload.debug?.(
      `reload ${label}: done on ${reload.stemcell.name}/${version}, downtime ${downtimeMs} ms (drain start → jobs running), ${staged.bytes_fetched} bytes fetched`,
    );
    progress.status(
      `reloaded to ${version} (downtime ${(downtimeMs / 1000).toFixed(1)} s, ${mb(staged.bytes_fetched)} fetched)`,
    );
    return outcome;
  } catch (error) {
    deps.signal.throwIfAborted();
    if (error instanceof ReloadFailed) throw error;
    throw new ReloadFailed(
      `Reload of '${label}' to stemcell ${version} failed while ${step}: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
}

const name = (plan: InstancePlan) => `${plan.group}/${plan.id}`;
