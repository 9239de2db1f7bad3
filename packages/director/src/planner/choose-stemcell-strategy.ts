import { stemcellVersionMove } from '@refit/protocol';
import type { ResolvedStemcell } from '../manifests/compile-manifest.ts';
import { StemcellStrategy } from '../manifests/update-config.ts';
import {
  Change,
  vmReplacingChanges,
  type CurrentInstance,
  type ReloadRefusal,
  type StrategyDecision,
} from './plan-types.ts';

/** A generic stemcell (rootfs) the director holds: what a reload needs. */
export interface ReloadableStemcell {
  readonly operatingSystem: string;
  readonly version: string;
}

/**
 * How to replace the VM of an instance that needs one. `reload` only when it was asked for
 * (manifest `stemcell_strategy` or the deploy flag), the stemcell and a requested recreate are
 * the only VM-replacing changes, the VM exists and its agent answers, the OS is not Windows and a generic stemcell of
 * the target OS and version is uploaded. Otherwise `recreate`, saying why.
 *
 * A reload only moves forward: a target version older than the VM's (or one that cannot be
 * ordered against it) recreates from the IaaS stemcell, as a BOSH stemcell rollback does,
 * unless `allowDowngrade` (`deploy --allow-downgrade`). The same version reloads (a repair).
 */
export function chooseStemcellStrategy(args: {
  readonly requested: StemcellStrategy;
  readonly changes: ReadonlySet<Change>;
  readonly current: CurrentInstance;
  readonly target: ResolvedStemcell;
  readonly reloadable: readonly ReloadableStemcell[];
  readonly allowDowngrade?: boolean;
}): StrategyDecision {
  const { changes, current, target } = args;
  const replacing = [...changes].filter((c) => vmReplacingChanges.has(c));
  const from = current.vm ? `${current.vm.stemcell.name}/${current.vm.stemcell.version}` : 'none';
  const to = `${target.name}/${target.version}`;
  const because = `${replacing.join(', ')} changed`;
  if (args.requested !== StemcellStrategy.reload) {
    return { strategy: StemcellStrategy.recreate, reason: because, reloadRefused: null };
  }
  const refuse = (why: string, refusal: ReloadRefusal): StrategyDecision => ({
    strategy: StemcellStrategy.recreate,
    reason: `reload not possible: ${why}`,
    reloadRefused: refusal,
  });
  // `recreate --strategy reload`: a recreate asked for reloads in place too (the agent restages
  // the root in full, even the version it runs: a drifted root repaired without the IaaS).
  const others = replacing.filter((c) => c !== Change.stemcell && c !== Change.recreate);
  if (others.length > 0) {
    return refuse(`${others.join(', ')} ${others.length === 1 ? 'needs' : 'need'} a new VM`, {
      kind: 'other-changes',
      changes: others,
    });
  }
  if (current.vm === null) return refuse('the instance has no VM', { kind: 'no-vm' });
  if (current.agentResponsive === false) {
    return refuse('the agent does not respond', { kind: 'agent-unresponsive' });
  }
  if (/windows/i.test(target.operatingSystem)) {
    return refuse(`${target.operatingSystem} cannot be reloaded`, {
      kind: 'unsupported-os',
      operatingSystem: target.operatingSystem,
    });
  }
  const move = stemcellVersionMove(current.vm.stemcell.version, target.version);
  const down = move === 'down' || move === 'unordered';
  if (down && args.allowDowngrade !== true) {
    const what =
      move === 'down'
        ? `stemcell downgrade ${current.vm.stemcell.version} → ${target.version}`
        : `stemcell versions ${current.vm.stemcell.version} → ${target.version} cannot be ordered`;
    return {
      strategy: StemcellStrategy.recreate,
      reason: `${what}: reload only moves forward (recreate from the IaaS stemcell; --allow-downgrade reloads)`,
      reloadRefused: {
        kind: 'downgrade',
        from: current.vm.stemcell.version,
        to: target.version,
        ordered: move === 'down',
      },
    };
  }
  const rootfs = args.reloadable.some(
    (r) => r.operatingSystem === target.operatingSystem && r.version === target.version,
  );
  if (!rootfs) {
    return refuse(
      `no generic stemcell ${target.operatingSystem}/${target.version} uploaded (upload-rootfs)`,
      {
        kind: 'no-rootfs',
        operatingSystem: target.operatingSystem,
        version: target.version,
      },
    );
  }
  const reason = changes.has(Change.stemcell)
    ? `stemcell ${from} → ${to}`
    : `recreate requested: root of stemcell ${to} restaged in place`;
  if (down) {
    return {
      strategy: StemcellStrategy.reload,
      reason: `${reason} (downgrade allowed)`,
      reloadRefused: null,
      downgrade: { from: current.vm.stemcell.version, to: target.version },
    };
  }
  return { strategy: StemcellStrategy.reload, reason, reloadRefused: null };
}
