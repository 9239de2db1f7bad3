import { canariesFlag, maxInFlightFlag, strategyFlags } from './deploy-flags.ts';
import { instanceStateCommand, skipDrainFlag } from './instance-state-command.ts';

/**
 * `refit -d DEP recreate [IG[/ID]]`: `state=recreate`. With `--strategy reload` (sent as
 * `&strategy=reload`) Refit reloads the instances' current stemcell in place instead of
 * recreating the VMs: the agent restages the root in full (`update_rootfs` with `force`) and the
 * VM reboots into that fresh copy, same CID — a drifted root repaired without the IaaS.
 */
export const recreate = instanceStateCommand({
  name: 'recreate',
  summary: 'Recreate instance(s)',
  flags: [
    skipDrainFlag,
    {
      name: 'fix',
      kind: 'boolean',
      description: 'Recreate an instance with an unresponsive agent instead of erroring',
    },
    canariesFlag,
    maxInFlightFlag,
    { name: 'dry-run', kind: 'boolean', description: 'Renders job templates without altering deployment' },
    ...strategyFlags,
  ],
  state: () => 'recreate',
});
