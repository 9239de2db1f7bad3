import { compareStemcellVersions, stemcellVersionMove } from '@refit/protocol';
import { AgentError, AgentErrorCode } from '../errors.ts';

/**
 * update_rootfs never moves a VM to an older stemcell unless the director says the operator
 * allowed it (`allow_downgrade`, from `deploy --allow-downgrade`): the agent's own check against
 * a replayed or mixed-up old rootfs, whatever the director's planner decided. `booted` is the
 * version the running root reports (null when it reports none: nothing to compare with).
 * Versions that cannot be ordered (`1.2` against `1.x`) count as a downgrade.
 */
export interface RootfsVersionPolicy {
  readonly booted: string | null;
  /** The version the director asked for (update_rootfs options `version`), if it said. */
  readonly declared: string | null;
  readonly allowDowngrade: boolean;
}

/** Throws when `incoming` is older than the booted version and no downgrade is allowed. */
export function refuseDowngrade(policy: RootfsVersionPolicy, incoming: string, what: string): void {
  const { booted } = policy;
  if (booted === null || policy.allowDowngrade) return;
  const move = stemcellVersionMove(booted, incoming);
  if (move === 'up' || move === 'same') return;
  const why =
    move === 'down'
      ? `is older than the booted stemcell ${booted}`
      : `cannot be ordered against the booted stemcell ${booted}`;
  throw new AgentError(
    AgentErrorCode.InvalidArguments,
    `update_rootfs refused: ${what} ${incoming} ${why}; a reload only moves forward (deploy --allow-downgrade allows it)`,
  );
}

/**
 * Checks the version of the rootfs.MF being staged, once it is known (before anything is
 * unpacked or installed): not older than the booted one, and the version the director asked
 * for when it named one (a rootfs of another version is not what was planned).
 */
export function checkManifestVersion(policy: RootfsVersionPolicy, manifestVersion: string): void {
  const { declared } = policy;
  if (declared !== null && compareStemcellVersions(declared, manifestVersion) !== 0) {
    throw new AgentError(
      AgentErrorCode.InvalidArguments,
      `update_rootfs refused: rootfs.MF says version ${manifestVersion}, the director asked for ${declared}`,
    );
  }
  refuseDowngrade(policy, manifestVersion, 'rootfs.MF version');
}
