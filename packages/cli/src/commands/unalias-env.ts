import { z } from 'zod';
import type { Command } from '../command.ts';
import { CliError } from '../errors.ts';
import { result } from '../output.ts';
import { onePositional } from './arg-schema.ts';

/** `refit unalias-env ALIAS`: forgets an alias (and the credentials stored with it). */
export const unaliasEnv: Command<{ readonly alias: string }> = {
  name: 'unalias-env',
  summary: 'Remove an aliased environment',
  usage: 'ALIAS',
  flags: [],
  args: z
    .object({ positionals: onePositional('ALIAS') })
    .transform(({ positionals }) => ({ alias: positionals })),
  async run(deps, { alias }) {
    const config = await deps.config.load();
    if (!config.environments.some((e) => e.alias === alias)) {
      throw new CliError('unknown-alias', `Environment alias '${alias}' does not exist`);
    }
    await deps.config.save({ environments: config.environments.filter((e) => e.alias !== alias) });
    return result();
  },
};
