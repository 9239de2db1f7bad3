import { canariesFlag, maxInFlightFlag } from './deploy-flags.ts';
import { instanceStateCommand, skipDrainFlag } from './instance-state-command.ts';

/** `refit -d DEP restart [IG[/ID]]`: `state=restart`. */
export const restart = instanceStateCommand({
  name: 'restart',
  summary: 'Restart instance(s)',
  flags: [skipDrainFlag, canariesFlag, maxInFlightFlag],
  state: () => 'restart',
});
