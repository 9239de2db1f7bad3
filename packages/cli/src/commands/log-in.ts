import { z } from 'zod';
import type { Command } from '../command.ts';
import { setCredentials } from '../config/config-file.ts';
import { getInfo } from '../director-client/info.ts';
import { CliError } from '../errors.ts';
import { line, result, warning } from '../output.ts';
import { noPositionals } from './arg-schema.ts';

/**
 * `refit log-in`: checks the credentials against the authenticated `GET /info` (a non-empty
 * `user` means accepted) and stores them for the environment.
 */
export const logIn: Command<Record<string, never>> = {
  name: 'log-in',
  aliases: ['l', 'login'],
  summary: 'Log in',
  flags: [],
  args: z.object({ positionals: noPositionals }).transform(() => ({})),
  async run(deps, _args, signal) {
    const url = deps.session.environmentUrl();
    deps.ui.show(line(`Using environment '${url}'`));
    const client =
      deps.globals.client ?? deps.session.credentials?.client ?? (await deps.ui.askText('Username'));
    const clientSecret =
      deps.globals.clientSecret ??
      (deps.session.credentials?.client === client ? deps.session.credentials.clientSecret : undefined) ??
      (await deps.ui.askPassword('Password'));
    const director = await deps.session.directorWith({ client, clientSecret });
    const info = await getInfo(director, signal);
    if (info.authType !== 'basic') {
      throw new CliError(
        'unsupported-auth',
        `Unknown auth type '${info.authType}': refit logs in with basic auth only`,
      );
    }
    if (info.user === undefined) {
      deps.ui.show(warning(`Failed to login to '${url}'`));
      throw new CliError('invalid-credentials', 'Invalid credentials');
    }
    await deps.config.save(setCredentials(await deps.config.load(), url, { client, clientSecret }));
    return result(line(`Logged in to '${url}'`));
  },
};
