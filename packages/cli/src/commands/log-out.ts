import { z } from 'zod';
import type { Command } from '../command.ts';
import { unsetCredentials } from '../config/config-file.ts';
import { line, result } from '../output.ts';
import { noPositionals } from './arg-schema.ts';

/** `refit log-out`: forgets the credentials stored for the environment. */
export const logOut: Command<Record<string, never>> = {
  name: 'log-out',
  aliases: ['logout'],
  summary: 'Log out',
  flags: [],
  args: z.object({ positionals: noPositionals }).transform(() => ({})),
  async run(deps) {
    const url = deps.session.environmentUrl();
    await deps.config.save(unsetCredentials(await deps.config.load(), url));
    return result(line(`Logged out from '${url}'`));
  },
};
