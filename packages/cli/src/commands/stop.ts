import { canariesFlag, maxInFlightFlag } from './deploy-flags.ts';
import { instanceStateCommand, skipDrainFlag } from './instance-state-command.ts';

/** `refit -d DEP stop [IG[/ID]] [--hard]`: `state=stopped`, or `detached` (VM deleted, disk kept). */
export const stop = instanceStateCommand({
  name: 'stop',
  summary: 'Stop instance(s)',
  flags: [
    { name: 'soft', kind: 'boolean', description: 'Stop process only (default)' },
    { name: 'hard', kind: 'boolean', description: 'Delete VM (but keep persistent disk)' },
    skipDrainFlag,
    canariesFlag,
    maxInFlightFlag,
  ],
  state: (flags) => (flags.hard ? 'detached' : 'stopped'),
});
