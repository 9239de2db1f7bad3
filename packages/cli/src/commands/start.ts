import { canariesFlag, maxInFlightFlag } from './deploy-flags.ts';
import { instanceStateCommand } from './instance-state-command.ts';

/** `refit -d DEP start [IG[/ID]]`: `state=started`. */
export const start = instanceStateCommand({
  name: 'start',
  summary: 'Start instance(s)',
  flags: [canariesFlag, maxInFlightFlag],
  state: () => 'started',
});
