import type { CommandDeps } from '../command.ts';
import { UsageError } from '../errors.ts';

/** The `-d` deployment (or `BOSH_DEPLOYMENT`) a deployment command needs. */
export function requiredDeployment(deps: CommandDeps): string {
  const name = deps.globals.deployment;
  if (name === undefined || name === '') {
    throw new UsageError('Expected non-empty deployment name: give -d NAME or set BOSH_DEPLOYMENT');
  }
  return name;
}
